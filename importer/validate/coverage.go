package validate

import (
	"cmp"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"slices"

	"github.com/clerkmigrate/clerkmigrate/reports"
)

// coverageFields are the CreateUser properties whose presence coverage
// counts, each with a test on a mapped request.
var coverageFields = [...]struct {
	name string
	set  func(p *request.CreateUser) bool
}{
	{"email_address", func(p *request.CreateUser) bool { return len(p.EmailAddresses) > 0 }},
	{"phone_number", func(p *request.CreateUser) bool { return len(p.PhoneNumbers) > 0 }},
	{"web3_wallet", func(p *request.CreateUser) bool { return len(p.Web3Wallets) > 0 }},
	{"username", func(p *request.CreateUser) bool { return given(p.Username) }},
	{"first_name", func(p *request.CreateUser) bool { return given(p.FirstName) }},
	{"last_name", func(p *request.CreateUser) bool { return given(p.LastName) }},
	{"locale", func(p *request.CreateUser) bool { return given(p.Locale) }},
	{"password", func(p *request.CreateUser) bool { return given(p.Password) }},
	{"password_digest", func(p *request.CreateUser) bool { return given(p.PasswordDigest) }},
	{"totp_secret", func(p *request.CreateUser) bool { return given(p.TOTPSecret) }},
	{"backup_codes", func(p *request.CreateUser) bool { return len(p.BackupCodes) > 0 }},
	{"public_metadata", func(p *request.CreateUser) bool { return len(p.PublicMetadata) > 0 }},
	{"private_metadata", func(p *request.CreateUser) bool { return len(p.PrivateMetadata) > 0 }},
	{"unsafe_metadata", func(p *request.CreateUser) bool { return len(p.UnsafeMetadata) > 0 }},
	{"created_at", func(p *request.CreateUser) bool { return given(p.CreatedAt) }},
	{"legal_accepted_at", func(p *request.CreateUser) bool { return given(p.LegalAcceptedAt) }},
	{"banned", func(p *request.CreateUser) bool { b, ok := p.Banned.Get(); return ok && b }},
	{"locked", func(p *request.CreateUser) bool { b, ok := p.Locked.Get(); return ok && b }},
}

func given[T comparable](f request.Field[T]) bool {
	v, ok := f.Get()
	var zero T
	return ok && v != zero
}

// fieldBits is the set of coverageFields a request has.
func fieldBits(p *request.CreateUser) uint32 {
	var bits uint32
	for i := range coverageFields {
		if coverageFields[i].set(p) {
			bits |= 1 << i
		}
	}
	return bits
}

// coverageTally adds rows up; it is bounded (one counter per field, one per
// hasher name, and hasher names are few).
type coverageTally struct {
	rows, mfa, noPassword, severalEmails int64
	fields                               [len(coverageFields)]int64
	hashers                              map[string]int64
}

func (c *coverageTally) add(r *rowResult) {
	c.rows++
	if !r.Mapped {
		return
	}
	for i := range coverageFields {
		if r.fields&(1<<i) != 0 {
			c.fields[i]++
		}
	}
	if r.hasher != "" {
		if c.hashers == nil {
			c.hashers = map[string]int64{}
		}
		name := r.hasher
		if r.detected {
			name += " (detected)"
		}
		c.hashers[name]++
	}
	const pw, digest, totp, codes = 1 << 7, 1 << 8, 1 << 9, 1 << 10
	if r.fields&(pw|digest) == 0 {
		c.noPassword++
	}
	if r.fields&(totp|codes) != 0 {
		c.mfa++
	}
	if len(r.IDs.Emails) > 1 {
		c.severalEmails++
	}
}

func (c *coverageTally) coverage() reports.Coverage {
	cov := reports.Coverage{Rows: c.rows, WithMFA: c.mfa, WithoutPassword: c.noPassword,
		WithSeveralEmails: c.severalEmails}
	for i, f := range coverageFields {
		cov.Fields = append(cov.Fields, reports.Count{Name: f.name, Count: c.fields[i]})
	}
	for name, n := range c.hashers {
		cov.Hashers = append(cov.Hashers, reports.Count{Name: name, Count: n})
	}
	slices.SortFunc(cov.Hashers, func(a, b reports.Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return cov
}
