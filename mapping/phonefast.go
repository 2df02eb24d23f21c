package mapping

import (
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// The phone fast path.
//
// phonenumbers.Parse and IsValidNumber cost about 25 µs a number, nearly
// all of it Go regexp runs over the library's metadata patterns (a US
// number is matched against a dozen patterns twice, some of them listing
// every area code). fastPhone gives the same answer for the forms exports
// hold ("+44 7911 123456", "(415) 555-0134", "415.555.0134") at a small
// fraction of that:
//
//   - it parses only plain inputs (an optional leading +, ASCII digits and
//     the separators space - . ( )) and only where Parse's region-dependent
//     rules provably do nothing: no international dialling prefix, no
//     national prefix, no default country code in front of a national
//     number, no leading zero in the national number, a country that is
//     not a non-geographic entity. Anything else is not decided here: the
//     caller runs the full check.
//   - it decides validity as IsValidNumber does (region of the number by
//     leading digits or by type, then the type patterns with their
//     possible lengths, in the library's order), but each full-match
//     question goes to a lazily built DFA over the digits 0-9 compiled from
//     the same pattern, so the answer is the regexp's answer.
//
// A number it cannot confirm valid goes to the full check, so errors (and
// their wording) always come from the library.

// fastPhone returns s (trimmed, 00 already turned into +) in E.164 when it
// can confirm the number valid exactly as the full check would; ok is false
// when the full check must decide.
func fastPhone(s, region string) (e164 string, ok bool) {
	var digits [24]byte
	nd := 0
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if nd == len(digits) {
				return "", false
			}
			digits[nd] = c
			nd++
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
			// Parse drops these (before the first digit too)
		default:
			return "", false
		}
	}
	if nd < 4 || len(s) > 64 {
		return "", false
	}
	d := string(digits[:nd])
	pm := phoneMeta()
	var cc int
	var nsn string
	var rd *regionDFAs
	if plus {
		if d[0] == '0' {
			return "", false
		}
		for i := 1; i <= 3 && i <= len(d); i++ {
			n, _ := strconv.Atoi(d[:i])
			if len(phonenumbers.GetRegionCodesForCountryCode(n)) > 0 {
				cc, nsn = n, d[i:]
				break
			}
		}
		if cc == 0 {
			return "", false
		}
		main := phonenumbers.GetRegionCodeForCountryCode(cc)
		if main == "001" {
			return "", false // non-geographic entity
		}
		rd = pm.region(main)
	} else {
		if rd = pm.region(region); rd == nil {
			return "", false
		}
		if m, known := rd.idd.match(d); m || !known {
			return "", false // dialled with the international prefix
		}
		cc = rd.cc
		if strings.HasPrefix(d, strconv.Itoa(cc)) {
			return "", false // may be the country code without +
		}
		nsn = d
	}
	if rd == nil || len(nsn) < 2 || len(nsn) > 17 || nsn[0] == '0' {
		return "", false
	}
	if rd.nationalPrefix != nil {
		if m, known := rd.nationalPrefix.match(nsn); m || !known {
			return "", false // a national prefix Parse may strip
		}
	}
	if valid, known := pm.valid(cc, nsn); !valid || !known {
		return "", false
	}
	return "+" + strconv.Itoa(cc) + nsn, true
}

// phoneMetadata indexes the library's metadata and holds each region's
// DFAs, built on first use.
type phoneMetadata struct {
	byRegion map[string]*phonenumbers.PhoneMetadata
	regions  sync.Map // region code -> *regionDFAs
	mu       sync.Mutex
	dfas     map[dfaKey]*digitDFA // shared by regions with the same pattern
}

type dfaKey struct {
	pattern string
	prefix  bool
}

// regionDFAs are the questions fastPhone asks of one region's metadata.
type regionDFAs struct {
	cc             int
	idd            *digitDFA // a prefix is the international dialling prefix
	nationalPrefix *digitDFA // a prefix is a national prefix; nil when none
	leading        *digitDFA // a prefix is the region's leading digits; nil when none
	general        descDFA
	types          []descDFA // premium rate ... fixed line, in getNumberTypeHelper's order
	mobile         *descDFA  // nil when mobile and fixed line share a pattern
}

// descDFA is a PhoneNumberDesc: possible lengths and a pattern.
type descDFA struct {
	lengths []int32
	dfa     *digitDFA
}

var (
	phoneMetaOnce sync.Once
	phoneMetaData *phoneMetadata
)

func phoneMeta() *phoneMetadata {
	phoneMetaOnce.Do(func() {
		pm := &phoneMetadata{byRegion: map[string]*phonenumbers.PhoneMetadata{}, dfas: map[dfaKey]*digitDFA{}}
		if coll, err := phonenumbers.MetadataCollection(); err == nil {
			for _, md := range coll.GetMetadata() {
				if id := md.GetId(); id != "" && id != "001" {
					pm.byRegion[id] = md
				}
			}
		}
		phoneMetaData = pm
	})
	return phoneMetaData
}

// region returns the DFAs of a region; nil for a region without metadata.
func (pm *phoneMetadata) region(code string) *regionDFAs {
	if r, ok := pm.regions.Load(code); ok {
		return r.(*regionDFAs)
	}
	md := pm.byRegion[code]
	if md == nil {
		return nil
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	desc := func(d *phonenumbers.PhoneNumberDesc) descDFA {
		return descDFA{lengths: d.GetPossibleLength(), dfa: pm.dfaLocked(d.GetNationalNumberPattern(), false)}
	}
	r := &regionDFAs{cc: int(md.GetCountryCode()), idd: pm.dfaLocked(md.GetInternationalPrefix(), true),
		general: desc(md.GetGeneralDesc())}
	if np := md.GetNationalPrefixForParsing(); np != "" {
		r.nationalPrefix = pm.dfaLocked(np, true)
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		r.leading = pm.dfaLocked(ld, true)
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
		md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine()} {
		r.types = append(r.types, desc(d))
	}
	if !md.GetSameMobileAndFixedLinePattern() {
		m := desc(md.GetMobile())
		r.mobile = &m
	}
	actual, _ := pm.regions.LoadOrStore(code, r)
	return actual.(*regionDFAs)
}

// dfaLocked returns the DFA of pattern, full match or any-prefix match;
// the caller holds pm.mu.
func (pm *phoneMetadata) dfaLocked(pattern string, prefix bool) *digitDFA {
	k := dfaKey{pattern, prefix}
	d := pm.dfas[k]
	if d == nil {
		d = newDigitDFA(pattern, prefix)
		pm.dfas[k] = d
	}
	return d
}

// valid is phonenumbers.IsValidNumber for a number with country code cc
// and national significant number nsn (no leading zero); known is false
// when a DFA could not answer.
func (pm *phoneMetadata) valid(cc int, nsn string) (valid, known bool) {
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	var rd *regionDFAs
	if len(regions) == 1 {
		rd = pm.region(regions[0])
	} else {
		for _, code := range regions { // getRegionCodeForNumberFromRegionList
			r := pm.region(code)
			if r == nil {
				return false, false
			}
			var m bool
			if r.leading != nil {
				m, known = r.leading.match(nsn)
			} else {
				m, known = r.numberType(nsn)
			}
			if !known {
				return false, false
			}
			if m {
				rd = r
				break
			}
		}
	}
	if rd == nil || rd.cc != cc {
		return false, true
	}
	return rd.numberType(nsn)
}

// numberType is getNumberTypeHelper(nsn, metadata) != UNKNOWN.
func (r *regionDFAs) numberType(nsn string) (valid, known bool) {
	if m, known := r.general.match(nsn); !m || !known {
		return false, known
	}
	for i := range r.types {
		if m, known := r.types[i].match(nsn); m || !known {
			return m, known
		}
	}
	if r.mobile == nil {
		return false, true
	}
	return r.mobile.match(nsn)
}

// match is isNumberMatchingDesc: a possible length and a full match.
func (d *descDFA) match(nsn string) (matched, known bool) {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int32(len(nsn)) == l {
				found = true
				break
			}
		}
		if !found {
			return false, true
		}
	}
	return d.dfa.match(nsn)
}

// digitDFA answers whether a digit string matches a regular expression
// (fully, or by some prefix), building its states as inputs reach them: a
// state is the set of the compiled program's instructions alive after the
// digits read so far, so the answer is the regexp's. Patterns it cannot run
// (an anchor inside, a program too large) make every answer false, which
// sends the number to the full check.
type digitDFA struct {
	prog   *syntax.Prog
	prefix bool
	broken bool

	// table is read without a lock (workers share the DFA; an RWMutex's
	// reader count was a contended cache line, 0.3 µs a row on 2 cores):
	// state s is the row table[s*dfaRow:], its transitions on the digits
	// 0-9 (-1: not built yet) then 1 if it accepts. A row never changes
	// once published but for its transitions, which are atomic; a new row is
	// written, and the table republished (grown into a copy when full),
	// before any transition leads to it. mu serialises building. One flat
	// table, not a list of state objects: a step is one load, not two
	// dependent ones (the phone check's largest cost on a million rows).
	table atomic.Pointer[[]atomic.Int32]
	mu    sync.Mutex
	index map[string]int32
	pcs   [][]uint32 // each state's instructions; under mu
}

// dfaRow is the width of a state's row: ten transitions and the accept flag.
const dfaRow = 11

// rows is the published table.
func (d *digitDFA) rows() []atomic.Int32 {
	if p := d.table.Load(); p != nil {
		return *p
	}
	return nil
}

// maxDFAStates bounds a DFA; past it, the DFA stops growing and answers
// false for inputs that need new states (the full check decides).
const maxDFAStates = 1 << 14

func newDigitDFA(pattern string, prefix bool) *digitDFA {
	d := &digitDFA{prefix: prefix, index: map[string]int32{}}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		d.broken = true
		return d
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		d.broken = true
		return d
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth {
			d.broken = true
			return d
		}
	}
	d.prog = prog
	d.add(d.closure(nil, []uint32{uint32(prog.Start)}))
	return d
}

// closure follows the empty moves from pcs and returns the sorted set of
// consuming and matching instructions reached.
func (d *digitDFA) closure(dst []uint32, pcs []uint32) []uint32 {
	seen := make(map[uint32]bool, 8)
	stack := append([]uint32(nil), pcs...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstFail:
		default: // InstMatch and the rune instructions
			dst = append(dst, pc)
		}
	}
	sortUint32(dst)
	return dst
}

func sortUint32(a []uint32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// add interns a state; the caller holds mu (or owns d).
func (d *digitDFA) add(pcs []uint32) int32 {
	var kb strings.Builder
	for _, pc := range pcs {
		kb.WriteString(strconv.FormatUint(uint64(pc), 36))
		kb.WriteByte(',')
	}
	key := kb.String()
	if id, ok := d.index[key]; ok {
		return id
	}
	t := d.rows()
	id := int32(len(t) / dfaRow)
	if id >= maxDFAStates {
		return -2
	}
	if len(t)+dfaRow > cap(t) { // readers keep the old table; its rows stay valid
		t = append(make([]atomic.Int32, 0, 2*cap(t)+16*dfaRow), t...)
	}
	t = t[:len(t)+dfaRow] // the slots appended to are beyond every reader's table
	row := t[int(id)*dfaRow:]
	for i := range 10 {
		row[i].Store(-1)
	}
	for _, pc := range pcs {
		if d.prog.Inst[pc].Op == syntax.InstMatch {
			row[10].Store(1)
		}
	}
	d.pcs = append(d.pcs, pcs)
	d.table.Store(&t)
	d.index[key] = id
	return id
}

// step builds the transition of state id on digit c; the caller holds mu.
func (d *digitDFA) step(id int32, c byte) int32 {
	if n := d.rows()[int(id)*dfaRow+int(c-'0')].Load(); n != -1 {
		return n
	}
	var next []uint32
	for _, pc := range d.pcs[id] {
		in := &d.prog.Inst[pc]
		if in.Op != syntax.InstMatch && in.MatchRune(rune(c)) {
			next = append(next, in.Out)
		}
	}
	n := d.add(d.closure(nil, next))
	if n >= 0 {
		d.rows()[int(id)*dfaRow+int(c-'0')].Store(n) // the table holding the new state
	}
	return n
}

// match reports whether digits (ASCII 0-9 only) match the pattern: fully,
// or for a prefix DFA, by some prefix (the empty one included). known is
// false when the DFA cannot tell (a pattern it cannot run, or too many
// states): the caller must then leave the number to the full check.
func (d *digitDFA) match(digits string) (matched, known bool) {
	if d.broken {
		return false, false
	}
	t := d.rows()
	id := 0
	i := 0
	for ; i < len(digits); i++ {
		if d.prefix && t[id+10].Load() != 0 {
			return true, true
		}
		n := int(t[id+int(digits[i]-'0')].Load())
		if n < 0 {
			break
		}
		if n*dfaRow >= len(t) { // built after the table was read
			t = d.rows()
		}
		id = n * dfaRow
	}
	if i == len(digits) {
		return t[id+10].Load() != 0, true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	sid := int32(id / dfaRow)
	for ; i < len(digits); i++ {
		if d.prefix && d.rows()[int(sid)*dfaRow+10].Load() != 0 {
			return true, true
		}
		if sid = d.step(sid, digits[i]); sid < 0 {
			return false, false
		}
	}
	return d.rows()[int(sid)*dfaRow+10].Load() != 0, true
}
