package mapping

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneRegions are the regions the equivalence test draws numbers from:
// NANPA members (several regions under +1), countries sharing a code (+7,
// +44, +61), national prefixes that are not plain (AR, MX, BR), leading
// zeros (IT), and the usual large ones.
var phoneRegions = []string{"US", "CA", "JM", "AG", "PR", "GB", "JE", "IM", "DE", "FR", "IT", "ES", "NL", "CH", "SE",
	"IN", "CN", "JP", "KR", "AU", "CX", "NZ", "BR", "AR", "MX", "RU", "KZ", "ZA", "NG", "EG", "SG", "HK", "AE", "IL",
	"TR", "PL", "UA", "ID", "PH", "VN", "FI", "AX", "NO", "SJ", "MA", "EH", "RE", "YT", "CO", "CL", "PE"}

var phoneTypes = []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
	phonenumbers.PREMIUM_RATE, phonenumbers.VOIP, phonenumbers.UAN, phonenumbers.SHARED_COST, phonenumbers.PAGER}

// phoneInputs generates n inputs written the ways exports write numbers:
// example numbers of each region and type with digits changed (so that a
// part are invalid), in E.164, international and national format, with
// 00, with random separators, cut or lengthened, and some junk.
func phoneInputs(rng *rand.Rand, n int) []string {
	var examples []*phonenumbers.PhoneNumber
	for _, r := range phoneRegions {
		for _, t := range phoneTypes {
			if ex := phonenumbers.GetExampleNumberForType(r, t); ex != nil {
				examples = append(examples, ex)
			}
		}
	}
	formats := []phonenumbers.PhoneNumberFormat{phonenumbers.E164, phonenumbers.INTERNATIONAL, phonenumbers.NATIONAL}
	seps := []string{" ", "-", ".", "(", ")", "", "", ""}
	out := make([]string, 0, n)
	for len(out) < n {
		ex := examples[rng.IntN(len(examples))]
		num := ex
		nsn := []byte(phonenumbers.GetNationalSignificantNumber(ex))
		// Change the last 1-5 digits (mostly keeps validity), or any digit.
		k := 1 + rng.IntN(min(5, len(nsn)))
		for i := len(nsn) - k; i < len(nsn); i++ {
			nsn[i] = byte('0' + rng.IntN(10))
		}
		if rng.IntN(8) == 0 {
			nsn[rng.IntN(len(nsn))] = byte('0' + rng.IntN(10))
		}
		switch rng.IntN(20) {
		case 0:
			nsn = nsn[:len(nsn)-1]
		case 1:
			nsn = append(nsn, byte('0'+rng.IntN(10)))
		}
		var s string
		if p, err := phonenumbers.Parse("+"+strconv.Itoa(int(ex.GetCountryCode()))+string(nsn), "ZZ"); err == nil {
			num = p
			s = phonenumbers.Format(num, formats[rng.IntN(len(formats))])
		} else {
			s = "+" + strconv.Itoa(int(ex.GetCountryCode())) + string(nsn)
		}
		switch rng.IntN(10) {
		case 0: // 00 instead of +
			if strings.HasPrefix(s, "+") {
				s = "00" + s[1:]
			}
		case 1, 2: // digits only, random separators
			var b strings.Builder
			if strings.HasPrefix(s, "+") {
				b.WriteByte('+')
			}
			for _, c := range phonenumbers.NormalizeDigitsOnly(s) {
				b.WriteRune(c)
				if rng.IntN(3) == 0 {
					b.WriteString(seps[rng.IntN(len(seps))])
				}
			}
			s = b.String()
		case 3: // the country code without +
			s = strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
		case 4: // junk
			if rng.IntN(4) == 0 {
				s = []string{"n/a", "+", "0", "12", "++1415", "+1 415 555 0134 ext. 7", "415-555-0134#", "tel:+14155550134",
					"(0)20 7946 0958", "+44 (0)20 7946 0958", "+0 123 4567", " 4155550134 ", "+1-(415)-555-0134-"}[rng.IntN(13)]
			}
		}
		out = append(out, s)
	}
	return out
}

// sweepRegions are the default regions the equivalence checks read numbers in.
var sweepRegions = []string{"US", "GB", "DE", "IT", "AR", "IN", ""}

// sameAsFull fails t unless the fast path and the full check give s, read
// in the default region o names, the same E.164 or the same problem; it
// returns the full check's problem.
func sameAsFull(t *testing.T, s string, o *Options) *problem {
	t.Helper()
	got, gotPr := checkPhoneWith(s, o, true)
	want, wantPr := checkPhoneWith(s, o, false)
	if got != want || (gotPr == nil) != (wantPr == nil) || gotPr != nil && *gotPr != *wantPr {
		t.Fatalf("region %q, %q: fast path %q %v, full check %q %v", o.DefaultPhoneRegion, s, got, gotPr, want, wantPr)
	}
	return wantPr
}

// TestFastPhoneSameAsFull checks the fast path against the library over
// many generated numbers, read in several default regions: the same E.164,
// or the same problem. 60,000 numbers without -race; under it (the CI
// command) 2,500, as the race detector slows the library's regular
// expressions tenfold and this sweep has one goroutine, nothing for it
// to find. FuzzFastPhoneSameAsFull sweeps further: go test -fuzz
// FuzzFastPhoneSameAsFull ./mapping.
func TestFastPhoneSameAsFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 60_000
	if testing.Short() || raceEnabled {
		n = 2_500
	}
	inputs := phoneInputs(rng, n)
	var fast, valid int
	for _, region := range sweepRegions {
		o := &Options{DefaultPhoneRegion: region}
		for _, s := range inputs {
			wantPr := sameAsFull(t, s, o)
			if wantPr == nil {
				valid++
				r := region
				if r == "" {
					r = "ZZ"
				}
				ts := strings.TrimSpace(s)
				if strings.HasPrefix(ts, "00") {
					ts = "+" + ts[2:]
				}
				if _, ok := fastPhone(ts, r); ok {
					fast++
				}
			}
		}
	}
	t.Logf("%d inputs x 7 regions: %d valid, %d of them (%.0f%%) confirmed by the fast path",
		len(inputs), valid, fast, 100*float64(fast)/float64(valid))
	if fast < valid/2 {
		t.Errorf("the fast path confirmed only %d of %d valid numbers", fast, valid)
	}
}

// FuzzFastPhoneSameAsFull is TestFastPhoneSameAsFull's check on any input
// and any of its regions.
func FuzzFastPhoneSameAsFull(f *testing.F) {
	for _, s := range phoneInputs(rand.New(rand.NewPCG(5, 6)), 64) {
		f.Add(s, uint8(len(s)))
	}
	f.Fuzz(func(t *testing.T, s string, region uint8) {
		sameAsFull(t, s, &Options{DefaultPhoneRegion: sweepRegions[int(region)%len(sweepRegions)]})
	})
}

// TestFastPhoneCommonForms checks that the forms exports hold take the fast
// path and give the library's E.164.
func TestFastPhoneCommonForms(t *testing.T) {
	for _, c := range []struct{ in, region, want string }{
		{"+1 415-234-5678", "US", "+14152345678"},
		{"(415) 234-5678", "US", "+14152345678"},
		{"415.234.5678", "US", "+14152345678"},
		{"+44 7911 123456", "US", "+447911123456"},
		{"+4930 12345678", "US", "+493012345678"},
		{"+33 6 12 34 56 78", "", "+33612345678"},
		{"+91 98765 43210", "GB", "+919876543210"},
		{"+1 268 464 1234", "US", "+12684641234"}, // Antigua, under +1
	} {
		got, ok := fastPhone(c.in, regionOrZZ(c.region))
		if !ok || got != c.want {
			t.Errorf("fastPhone(%q, %q) = %q, %v; want %q, true", c.in, c.region, got, ok, c.want)
		}
		full, pr := checkPhoneFull(c.in, regionOrZZ(c.region))
		if pr != nil || full != got {
			t.Errorf("full check of %q = %q, %v; the fast path said %q", c.in, full, pr, got)
		}
	}
}

func regionOrZZ(r string) string {
	if r == "" {
		return "ZZ"
	}
	return r
}

func BenchmarkCheckPhone(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	o := &Options{DefaultPhoneRegion: "US"}
	var inputs []string // valid numbers, as most of an export's are
	for _, s := range phoneInputs(rng, 8192) {
		if _, pr := checkPhoneWith(s, o, false); pr == nil {
			inputs = append(inputs, s)
		}
	}
	for _, fast := range []bool{true, false} {
		name := "full"
		if fast {
			name = "fast"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				checkPhoneWith(inputs[i%len(inputs)], o, fast)
			}
		})
	}
}

// TestFastPhoneConcurrent: workers share the DFAs (run with -race); every
// goroutine gets the full check's answer.
func TestFastPhoneConcurrent(t *testing.T) {
	// 4 goroutines x 600 numbers share every DFA many times over: the race
	// detector needs two unsynchronised accesses, not thousands.
	inputs := phoneInputs(rand.New(rand.NewPCG(9, 9)), 600)
	o := &Options{DefaultPhoneRegion: "US"}
	want := make([]string, len(inputs))
	for i, s := range inputs {
		want[i], _ = checkPhoneWith(s, o, false)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range inputs {
				j := (i + g*len(inputs)/4) % len(inputs)
				if got, _ := checkPhone(inputs[j], o); got != want[j] {
					t.Errorf("%q: %q, want %q", inputs[j], got, want[j])
					return
				}
			}
		}()
	}
	wg.Wait()
}
