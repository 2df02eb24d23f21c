package reports

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEachKey(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"failures.csv", "key,position,outcome,error_code,field,retryable,message\nu-1,1,failed,x,,false,m\n\"u,2\",2,invalid,y,email,false,\"a, b\"\n", []string{"u-1", "u,2"}},
		{"key column not first", "position,key\n1,a\n2,b\n", []string{"a", "b"}},
		{"header KEY with BOM and CRLF", "\ufeffKEY,message\r\na,x\r\n\r\nb,y\r\n", []string{"a", "b"}},
		{"only a key header", "key\na\nb\n", []string{"a", "b"}},
		{"plain", "a\n  b  \n\n# comment\nc", []string{"a", "b", "c"}},
		{"plain with BOM", "\ufeffa\nb\n", []string{"a", "b"}},
		{"plain keys with commas", "a,1\nb,2\n", []string{"a,1", "b,2"}},
		{"empty", "", nil},
		{"header only", "key,position\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := EachKey(tc.name, strings.NewReader(tc.in), func(k string) error {
				got = append(got, k)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("keys = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEachKeyErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"empty key", "key,position\na,1\n,2\n", 3},
		{"short record", "position,key\n1,a\n2\n", 3},
		{"bad quote", "key,message\na,x\n\"b,y\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := EachKey("f.csv", strings.NewReader(tc.in), func(string) error { return nil })
			var ke *KeysError
			if !errors.As(err, &ke) {
				t.Fatalf("err = %v, want a *KeysError", err)
			}
			if ke.Line != tc.line || !strings.Contains(err.Error(), "f.csv") {
				t.Errorf("err = %v (line %d), want line %d and the file name", err, ke.Line, tc.line)
			}
		})
	}
}

func TestEachKeyStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := EachKey("f", strings.NewReader("a\nb\nc\n"), func(string) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d keys, want stop after 1", err, n)
	}
}

func TestReadKeysMissingFile(t *testing.T) {
	_, err := ReadKeys(filepath.Join(t.TempDir(), "nope.csv"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}
