package validate

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
)

// Canary is a user whose password is known: validation finds the row by
// email and checks that the password matches the row's digest under the
// row's hasher, which proves the hasher mapping and the digest column right
// before anything is imported.
type Canary struct {
	Email    string
	Password string
}

// String names the canary by email only: a Canary printed with %v never
// shows its password.
func (c Canary) String() string { return c.Email }

// ParseCanary reads "email:password" (the password may contain colons).
func ParseCanary(s string) (Canary, error) {
	email, pw, ok := strings.Cut(s, ":")
	email = strings.TrimSpace(email)
	if !ok || email == "" || pw == "" || !strings.Contains(email, "@") {
		return Canary{}, errors.New("a canary is email:password")
	}
	return Canary{Email: email, Password: pw}, nil
}

// ReadCanaries reads one email:password a line; blank lines and lines
// starting with # are skipped. Errors name the line, never its content.
func ReadCanaries(r io.Reader) ([]Canary, error) {
	var out []Canary
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		c, err := ParseCanary(line)
		if err != nil {
			return nil, fmt.Errorf("canaries line %d: %w", n, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// CanaryStatus is how a canary check ended.
type CanaryStatus string

// The statuses of a canary.
const (
	CanaryVerified      CanaryStatus = "verified"       // the password matches the digest
	CanaryWrong         CanaryStatus = "WRONG"          // it does not: the hasher mapping or the digest column is wrong
	CanaryNotVerifiable CanaryStatus = "not verifiable" // the hasher cannot be checked here (awscognito), or the row has no digest
	CanaryNotFound      CanaryStatus = "not found"      // no row that mapped holds the email
)

// CanaryResult is one canary's outcome. It holds neither the password nor
// the digest.
type CanaryResult struct {
	Email  string
	Status CanaryStatus
	Pos    int64  // the row found; 0 when not found
	Key    string // its legacy key
	Hasher string // the row's hasher
	Detail string // why, for not verifiable and WRONG
}

// Problem reports whether the canary points at a mapping or data problem.
func (r CanaryResult) Problem() bool {
	return r.Status == CanaryWrong || r.Status == CanaryNotFound
}

// canarySet finds canaries by email (any case).
type canarySet struct {
	list    []Canary
	byEmail map[string][]int
}

func newCanarySet(cs []Canary) *canarySet {
	if len(cs) == 0 {
		return nil
	}
	s := &canarySet{list: cs, byEmail: make(map[string][]int, len(cs))}
	for i, c := range cs {
		e := strings.ToLower(c.Email)
		s.byEmail[e] = append(s.byEmail[e], i)
	}
	return s
}

// canaryHit is a canary checked against one row, in a worker.
type canaryHit struct {
	idx    int
	status CanaryStatus
	hasher string
	detail string
}

// check verifies every canary whose email the row holds.
func (s *canarySet) check(p *request.CreateUser, lowered []string) []canaryHit {
	var hits []canaryHit
	for _, e := range lowered {
		for _, i := range s.byEmail[e] {
			hits = append(hits, verifyCanary(i, s.list[i], p))
		}
	}
	return hits
}

func verifyCanary(i int, c Canary, p *request.CreateUser) canaryHit {
	h := canaryHit{idx: i, hasher: p.PasswordHasher}
	digest, ok := p.PasswordDigest.Get()
	if !ok || digest == "" {
		if _, plain := p.Password.Get(); plain {
			h.status, h.detail = CanaryNotVerifiable, "the row has a plaintext password, not a digest"
		} else {
			h.status, h.detail = CanaryNotVerifiable, "the row has no password digest"
		}
		return h
	}
	match, err := hashers.Verify(p.PasswordHasher, digest, c.Password)
	switch {
	case errors.Is(err, hashers.ErrNotVerifiable), errors.Is(err, hashers.ErrTooCostly):
		h.status, h.detail = CanaryNotVerifiable, err.Error()
	case err != nil:
		var de *hashers.DigestError
		if errors.As(err, &de) {
			h.status, h.detail = CanaryWrong, de.Error()
		} else {
			h.status, h.detail = CanaryWrong, "verification failed"
		}
	case match:
		h.status = CanaryVerified
	default:
		h.status = CanaryWrong
		h.detail = "the password does not match the digest under hasher " + p.PasswordHasher +
			": check the password_hasher mapping and the digest column"
	}
	return h
}
