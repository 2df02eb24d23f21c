package mapping

import (
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// TestUsernamesAsClerkDocumentsThem: Clerk's docs refuse ^$!.`#+~ by
// default and let an instance allow them, so john.doe is a warning and is
// sent as it is; Latin letters with accents pass; white space, other
// scripts, digits only and a bad length are refused.
func TestUsernamesAsClerkDocumentsThem(t *testing.T) {
	m := mustParse(t, "version: 1\nkey: id\nfields:\n  username: user\n")
	for _, tc := range []struct {
		user, want string // want: "" valid, "warn" valid with a warning, else the refusal's code
	}{
		{"john_doe-1", ""},
		{"José_Müller", ""},
		{"john.doe", "warn"},
		{"dollar$sign", "warn"},
		{"mail@home", "warn"},
		{"a b c d", CodeUsernameInvalid},
		{"иван_петров", CodeUsernameInvalid},
		{"smile🙂", CodeUsernameInvalid},
		{"123456", CodeUsernameInvalid},
		{"abc", CodeUsernameInvalid},
	} {
		p, errs := m.Map(sources.Record{Key: "k", Values: vals{"user": tc.user}})
		switch tc.want {
		case "":
			if p == nil || len(errs) != 0 {
				t.Errorf("%q: %v %v, want valid without findings", tc.user, p, errs)
			}
		case "warn":
			if p == nil || len(errs) != 1 || !errs[0].Warning || errs[0].Code != CodeUsernameCharacter || errs.Invalid() {
				t.Errorf("%q: %v %v, want valid with one username warning", tc.user, p, errs)
				continue
			}
			if u, _ := p.Username.Get(); u != tc.user {
				t.Errorf("%q: the request holds %q, want the username as the source gives it", tc.user, u)
			}
		default:
			if p != nil || len(errs) != 1 || errs[0].Code != tc.want || errs[0].Warning {
				t.Errorf("%q: %v %v, want refused with %s", tc.user, p, errs, tc.want)
			}
		}
	}
}
