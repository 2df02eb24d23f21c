package reports

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// oddTexts are strings each encoder treats specially somewhere: quotes,
// separators, line breaks, control bytes, HTML characters, DEL, non-ASCII,
// invalid UTF-8, JSON's U+2028/U+2029, CSV's leading space and `\.`.
var oddTexts = []string{
	"", "plain", "a,b", `say "hi"`, `back\slash`, "line\nbreak", "cr\rlf\r\n", "tab\tbed", " leading space",
	"\tleading tab", `\.`, "<b>&amp;</b>", "del\x7f", "nul\x00ctl\x01\x1f", "ünïcødé", "日本語", "bad\xffutf8\xc3",
	"sep\u2028para\u2029", "'=formula", "=1+2", "-minus", "@at", "trailing ", "\u00a0nbsp lead", "emoji 🎉",
}

// randomText mixes pieces of oddTexts and random bytes.
func randomText(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		if r.IntN(3) == 0 {
			for range r.IntN(6) {
				b.WriteByte(byte(r.IntN(256)))
			}
		} else {
			b.WriteString(oddTexts[r.IntN(len(oddTexts))])
		}
	}
	return b.String()
}

// oddLines are report lines built from oddTexts and random texts, with
// extreme numbers.
func oddLines(n int) []OutcomeLine {
	r := rand.New(rand.NewPCG(1, 2))
	ints := []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64}
	var out []OutcomeLine
	for i := range n {
		text := func() string {
			if i < len(oddTexts) {
				return oddTexts[(i+r.IntN(3))%len(oddTexts)]
			}
			return randomText(r)
		}
		out = append(out, OutcomeLine{Position: ints[i%len(ints)] + int64(i), Key: text(), ClerkUserID: text(),
			Outcome: text(), ErrorCode: text(), Field: text(), Message: text(), Attempts: int(ints[r.IntN(len(ints))])})
	}
	return out
}

// TestJSONLinesSameAsEncodingJSON: outcomes.jsonl's encoder writes what a
// json.Encoder without HTML escaping writes, byte for byte.
func TestJSONLinesSameAsEncodingJSON(t *testing.T) {
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	j := newJSONLines[OutcomeLine]()
	var got []byte
	for i, l := range oddLines(5000) {
		if err := enc.Encode(&l); err != nil {
			t.Fatal(err)
		}
		start := len(got)
		got = j.appendLine(got, &l)
		if w := want.Bytes()[start:]; !bytes.Equal(got[start:], w) {
			t.Fatalf("line %d (%#v):\n got %s\nwant %s", i, l, got[start:], w)
		}
	}
}

// TestCSVLinesSameAsGocsv: outcomes.csv's encoder writes what gocsv writes
// for the same rows, header included, byte for byte.
func TestCSVLinesSameAsGocsv(t *testing.T) {
	var want, got bytes.Buffer
	g, err := NewCSV[OutcomeLine](&want)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCSVLines[OutcomeLine](&got)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range oddLines(5000) {
		if err := g.Write(l); err != nil {
			t.Fatal(err)
		}
		if err := c.Write(&l); err != nil {
			t.Fatal(err)
		}
		if i%97 == 0 { // flushes at other points than gocsv's batches
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d:\n got %q\nwant %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
}

// TestColumnsOfRefusesWhatItCannotWrite: a field the encoders would write
// otherwise than encoding/json or gocsv stops them at once.
func TestColumnsOfRefusesWhatItCannotWrite(t *testing.T) {
	type named string
	for name, typ := range map[string]reflect.Type{
		"no tag": reflect.TypeFor[struct{ A string }](),
		"omitempty": reflect.TypeFor[struct {
			A string `json:"a,omitempty" csv:"a,omitempty"`
		}](),
		"float": reflect.TypeFor[struct {
			A float64 `json:"a" csv:"a"`
		}](),
		"named": reflect.TypeFor[struct {
			A named `json:"a" csv:"a"`
		}](),
		"odd name": reflect.TypeFor[struct {
			A string `json:"A b" csv:"A b"`
		}](),
	} {
		for _, tag := range []string{"json", "csv"} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s, %s tag: accepted", name, tag)
					}
				}()
				columnsOf(typ, tag)
			}()
		}
	}
	if got := columnsOf(reflect.TypeFor[OutcomeLine](), "csv"); len(got) != reflect.TypeFor[OutcomeLine]().NumField() {
		t.Errorf("OutcomeLine: %d columns", len(got))
	}
}
