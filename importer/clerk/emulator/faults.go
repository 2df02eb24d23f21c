package emulator

import (
	"encoding/binary"
	"hash/fnv"
	"net/http"
	"sync"
	"time"
)

// faultKind is what happens to one request.
type faultKind int

const (
	faultNone  faultKind = iota
	faultError           // a 5xx answer, nothing applied
	faultReset           // connection closed, nothing applied
	faultLost            // applied, connection closed
	faultSlow            // applied, answer held back
)

// decision is the fate of one request.
type decision struct {
	kind    faultKind
	status  int // for faultError
	slow    bool
	latency time.Duration
}

// faultPlan decides faults from the seed and the request, never from the
// order requests arrive in (see the package doc).
type faultPlan struct {
	f Faults

	mu   sync.Mutex
	seen map[uint64]uint64 // request hash → times seen
}

func newFaultPlan(f Faults) *faultPlan {
	return &faultPlan{f: f, seen: map[uint64]uint64{}}
}

func (p *faultPlan) active() bool { return p.f.enabled() }

func (p *faultPlan) reset() {
	p.mu.Lock()
	clear(p.seen)
	p.mu.Unlock()
}

// canonicalTarget is the path with its query in canonical (sorted) form.
func canonicalTarget(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return r.URL.Path
	}
	return r.URL.Path + "?" + r.URL.Query().Encode()
}

// requestHash hashes what identifies "this exact request".
func requestHash(method, target string, body []byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum64()
}

// decide returns the fate of this sending of the request.
func (p *faultPlan) decide(method, target string, body []byte) decision {
	key := requestHash(method, target, body)
	p.mu.Lock()
	n := p.seen[key]
	p.seen[key] = n + 1
	p.mu.Unlock()
	return p.decideNth(key, n)
}

// wayIn is the first half of the latency decided for this sending of the
// request, before decide counts it (a request refused by the rate limiter
// is not counted: its next sending gets the same latency).
func (p *faultPlan) wayIn(method, target string, body []byte) time.Duration {
	l := p.peek(method, target, body).latency
	return l / 2
}

// wayOut is the second half of the latency wayIn took the first half of.
func (p *faultPlan) wayOut(method, target string, body []byte) time.Duration {
	l := p.peek(method, target, body).latency
	return l - l/2
}

// peek is the decision decide would return now, without counting it.
func (p *faultPlan) peek(method, target string, body []byte) decision {
	key := requestHash(method, target, body)
	p.mu.Lock()
	n := p.seen[key]
	p.mu.Unlock()
	return p.decideNth(key, n)
}

// decideNth is the pure decision for the n-th sending (from 0) of the
// request hashed to key.
func (p *faultPlan) decideNth(key, n uint64) decision {
	var buf [24]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(p.f.Seed))
	binary.LittleEndian.PutUint64(buf[8:], key)
	binary.LittleEndian.PutUint64(buf[16:], n)
	h := fnv.New64a()
	h.Write(buf[:])
	rng := splitmix{state: h.Sum64()}

	var d decision
	d.latency = p.f.Latency
	if p.f.Jitter > 0 {
		d.latency += time.Duration(rng.float() * float64(p.f.Jitter))
	} else {
		rng.next()
	}
	u := rng.float()
	switch {
	case u < p.f.ErrorRate:
		d.kind = faultError
		d.status = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[rng.next()%3]
	case u < p.f.ErrorRate+p.f.ResetRate:
		d.kind = faultReset
	case u < p.f.ErrorRate+p.f.ResetRate+p.f.LostResponseRate:
		d.kind = faultLost
	}
	d.slow = rng.float() < p.f.SlowRate
	return d
}

// splitmix is SplitMix64, a small deterministic generator.
type splitmix struct{ state uint64 }

func (s *splitmix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (s *splitmix) float() float64 { return float64(s.next()>>11) / (1 << 53) }
