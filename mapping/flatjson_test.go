package mapping

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestFlatObjectSameAsEncodingJSON: whenever the quick reader accepts a
// cell, encoding/json (UseNumber) reads the same map from it.
func TestFlatObjectSameAsEncodingJSON(t *testing.T) {
	cases := []string{`{}`, ` { } `, `{"a":1}`, `{"theme":"dark","newsletter":true,"score":42}`, `{"a":null,"b":false}`,
		`{"a":-0.5e+3,"b":1E9,"c":0}`, `{"a":"ü€"}`, `{"a":1,"a":2}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":.5}`,
		`{"a":"x\"y"}`, `{"a":{"b":1}}`, `{"a":[1]}`, `{"a":1,}`, `{"a" 1}`, `{"a":1} x`, `{"a":tru}`, `{"a":truex}`,
		"{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":1`, `{a:1}`, `{"a":1e}`, `{"a":-01}`, "{\"a\":\t\"b\"\n}"}
	rng := rand.New(rand.NewPCG(5, 6))
	atoms := []string{`"x"`, `"dark"`, `""`, `1`, `-2.5`, `3e7`, `true`, `false`, `null`, `01`, `"a\nb"`, `{}`, `[]`, `tru`}
	for range 5000 {
		var b strings.Builder
		b.WriteString("{")
		for k := range rng.IntN(5) {
			if k > 0 {
				b.WriteString([]string{",", ", ", ",,", " ,"}[rng.IntN(4)])
			}
			b.WriteString(`"k` + string(rune('a'+rng.IntN(4))) + `":` + atoms[rng.IntN(len(atoms))])
		}
		b.WriteString([]string{"}", "} ", "}}", ""}[rng.IntN(4)])
		cases = append(cases, b.String())
	}
	accepted := 0
	for _, c := range cases {
		s := strings.TrimSpace(c)
		got, ok := parseFlatObject(s)
		if !ok {
			continue
		}
		accepted++
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var want map[string]any
		if err := dec.Decode(&want); err != nil || dec.More() {
			t.Fatalf("%q: the quick reader accepted what encoding/json refuses (%v)", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: quick %#v, encoding/json %#v", s, got, want)
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d of %d accepted", accepted, len(cases))
	}
}

func BenchmarkParseObject(b *testing.B) {
	cell := `{"theme":"dark","newsletter":true,"score":42}`
	for i := 0; i < b.N; i++ {
		if _, _, pr := parseObject(cell); pr != nil {
			b.Fatal(pr.reason)
		}
	}
}
