package verdict

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// rejected lists, for positions 1..n, the code of the finding that refuses
// each row ("" for a row kept).
func rejected(t *testing.T, rj *Rejections, n int) []string {
	t.Helper()
	out := make([]string, n)
	for pos := 1; pos <= n; pos++ {
		f, ok, err := rj.At(int64(pos))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out[pos-1] = f.Code
		}
	}
	return out
}

// TestRejectionsFollowTheRule: the first valid row keeps a value; every
// later valid row with it is refused once (whatever number of values it
// shares), a row refused for other problems is not refused again and takes
// no value, and a value on one row refuses nothing.
func TestRejectionsFollowTheRule(t *testing.T) {
	rows := []struct {
		ids     Identifiers
		invalid bool
	}{
		{Identifiers{Emails: []string{"a@x"}, Ext: "1"}, true},                    // 1: invalid, holds a@x
		{Identifiers{Emails: []string{"a@x"}, Username: "u", Ext: "2"}, false},    // 2: first valid with a@x
		{Identifiers{Emails: []string{"a@x"}, Username: "u", Ext: "3"}, false},    // 3: refused (a@x and u)
		{Identifiers{Phones: []string{"+15555550100"}, Ext: "4"}, false},          // 4: keeps the phone
		{Identifiers{Emails: []string{"b@x"}, Ext: "4"}, false},                   // 5: external_id of row 4
		{Identifiers{Phones: []string{"+15555550100"}, Ext: "6"}, true},           // 6: invalid already
		{Identifiers{Emails: []string{"c@x", "a@x"}, Ext: "7"}, false},            // 7: second email taken
		{Identifiers{Emails: []string{"d@x"}, Username: "solo", Ext: "8"}, false}, // 8: alone
	}
	for _, chunk := range []int{0, 48} { // in memory, and spilled in tiny runs
		t.Run(fmt.Sprintf("chunk=%d", chunk), func(t *testing.T) {
			d := NewDuplicates(t.TempDir(), nil, chunk)
			defer d.Close()
			for i, r := range rows {
				if err := d.Add(int64(i+1), int64(i+2), &r.ids, r.invalid); err != nil {
					t.Fatal(err)
				}
			}
			rj, values, err := d.Rejections()
			if err != nil {
				t.Fatal(err)
			}
			defer rj.Close()
			got := rejected(t, rj, len(rows))
			want := []string{"", "", CodeDuplicateEmail, "", CodeDuplicateExternalID, "", CodeDuplicateEmail, ""}
			if !slices.Equal(got, want) {
				t.Errorf("refused %q, want %q", got, want)
			}
			if values != 4 {
				t.Errorf("%d values on several rows, want 4 (a@x, u, the phone, external_id 4)", values)
			}
		})
	}
}

// TestRefusalNamesTheFirstRow: the finding that refuses a row says whose
// duplicate it is.
func TestRefusalNamesTheFirstRow(t *testing.T) {
	d := NewDuplicates(t.TempDir(), nil, 0)
	defer d.Close()
	for i, e := range []string{"x@example.com", "y@example.com", "x@example.com"} {
		ids := Identifiers{Emails: []string{e}, Ext: fmt.Sprint(100 + i)}
		if err := d.Add(int64(i+1), 0, &ids, false); err != nil {
			t.Fatal(err)
		}
	}
	rj, _, err := d.Rejections()
	if err != nil {
		t.Fatal(err)
	}
	defer rj.Close()
	f, ok, err := rj.At(3)
	if err != nil || !ok || !strings.Contains(f.Reason, "duplicate of row 1") || f.Key != "102" || f.Field != "email_address" {
		t.Errorf("row 3: %+v %v %v; want refused as a duplicate of row 1", f, ok, err)
	}
	if s := Refused(&f); s.Outcome != "invalid" || s.ErrorCode != CodeDuplicateEmail || s.Message != f.Reason {
		t.Errorf("settlement %+v", s)
	}
}

// TestLargeDuplicateGroupSpills puts one email on 15 rows with a group
// bound of 4 entries in memory: the rest of the group goes through a spill
// file, and every row still gets its finding.
func TestLargeDuplicateGroupSpills(t *testing.T) {
	old := maxGroupInMemory
	maxGroupInMemory = 4
	defer func() { maxGroupInMemory = old }()
	d := NewDuplicates(t.TempDir(), nil, 0)
	defer d.Close()
	for i := 1; i <= 15; i++ {
		ids := Identifiers{Emails: []string{"shared@example.com"}, Ext: fmt.Sprint(1000 + i)}
		if err := d.Add(int64(i), 0, &ids, false); err != nil {
			t.Fatal(err)
		}
	}
	var refused []int64
	var r15 string
	values, err := d.Resolve(func(f *Finding, invalidates bool) error {
		if invalidates {
			refused = append(refused, f.Pos)
		}
		if f.Pos == 15 {
			r15 = f.Reason
		}
		return nil
	})
	if err != nil || values != 1 || len(refused) != 14 || slices.Contains(refused, 1) {
		t.Fatalf("values %d, refused %v (%v): want rows 2-15 refused", values, refused, err)
	}
	if !strings.Contains(r15, "rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 (keys 1001,") || !strings.Contains(r15, "and 4 more") {
		t.Errorf("row 15's reason: %q", r15)
	}
}

// TestScanRefusesWhatCheckAndTheRuleRefuse: Scan over a real CSV and
// mapping refuses the later rows with a taken email, whatever the number
// of workers, and not a row invalid for its own problems.
func TestScanRefusesWhatCheckAndTheRuleRefuse(t *testing.T) {
	dir := t.TempDir()
	csv := "id,email\n1,a@example.com\n2,not-an-email\n3,A@Example.com\n4,b@example.com\n5,a@example.com\n,b@example.com\n"
	if err := os.WriteFile(filepath.Join(dir, "u.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse([]byte("version: 1\nkey: id\nfields:\n  email_address: { from: email, transform: [lower], verified: true }\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		src, err := sources.OpenCSV(sources.CSVConfig{Path: filepath.Join(dir, "u.csv"), KeyColumn: "id"})
		if err != nil {
			t.Fatal(err)
		}
		rj, err := Scan(context.Background(), src, m, ScanOptions{Workers: workers, TempDir: dir})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := rejected(t, rj, 6)
		rj.Close()
		if want := []string{"", "", CodeDuplicateEmail, "", CodeDuplicateEmail, ""}; !slices.Equal(got, want) {
			t.Errorf("workers %d: refused %q, want %q", workers, got, want)
		}
	}
}
