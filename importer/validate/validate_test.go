package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

// row is one test CSV row; zero fields are empty cells.
type row struct {
	id, email, other, first, username, phone, hash, hasher, totp, codes, meta, created string
}

// good returns a row that maps cleanly, unique by n.
func good(n int) row {
	return row{id: strconv.Itoa(1000 + n), email: "user" + strconv.Itoa(n) + "@example.com", first: "Name",
		hash: bcryptA, hasher: "bcrypt", created: "2020-01-02"}
}

func (r row) line() string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{r.id, r.email, r.other, r.first, r.username, r.phone, r.hash, r.hasher, r.totp, r.codes,
		r.meta, r.created})
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

func lines(rows ...row) []string {
	out := []string{testHeader}
	for _, r := range rows {
		out = append(out, r.line())
	}
	return out
}

func TestEachKindOfFinding(t *testing.T) {
	with := func(n int, f func(*row)) row { r := good(n); f(&r); return r }
	cases := []struct {
		name string
		row  row
		raw  string // a raw CSV line instead of row
		want []string
	}{
		{name: "clean row", row: good(1)},
		{name: "no email", row: with(2, func(r *row) { r.email = "" }), want: []string{"email_address:missing"}},
		{name: "bad email", row: with(3, func(r *row) { r.email = "not-an-email" }), want: []string{"email_address:email_invalid"}},
		{name: "digest cut short", row: with(4, func(r *row) { r.hash = bcryptA[:40] }), want: []string{"password_digest:digest_invalid"}},
		{name: "unknown hasher", row: with(5, func(r *row) { r.hasher = "sha1_legacy" }), want: []string{"password_hasher:hasher_unknown"}},
		{name: "digest without hasher", row: with(6, func(r *row) { r.hasher = "" }), want: []string{"password_hasher:hasher_missing"}},
		{name: "hex TOTP", row: with(7, func(r *row) { r.totp = "3132333435363738393031323334353637383930" }), want: []string{"totp_secret:totp_invalid"}},
		{name: "backup codes not JSON", row: with(8, func(r *row) { r.codes = `["a1b2c3",` }), want: []string{"backup_codes:list_invalid"}},
		{name: "metadata cut short", row: with(9, func(r *row) { r.meta = `{"plan":` }), want: []string{"public_metadata:json_invalid"}},
		{name: "metadata not an object", row: with(10, func(r *row) { r.meta = `[1,2]` }), want: []string{"public_metadata:json_not_object"}},
		{name: "bad timestamp", row: with(11, func(r *row) { r.created = "yesterday" }), want: []string{"created_at:timestamp_invalid"}},
		{name: "bad phone", row: with(12, func(r *row) { r.phone = "12" }), want: []string{"phone_number:phone_invalid"}},
		{name: "bad username", row: with(13, func(r *row) { r.username = "a!" }), want: []string{"username:username_invalid"}},
		{name: "no key", row: with(14, func(r *row) { r.id = "" }), want: []string{"external_id:missing"}},
		{name: "ragged row", raw: "1015,user15@example.com,too,few", want: []string{":record_unreadable"}},
		{name: "three problems", row: with(16, func(r *row) { r.email = "nope"; r.hash = bcryptA[:30]; r.created = "soon" }),
			want: []string{"created_at:timestamp_invalid", "email_address:email_invalid", "password_digest:digest_invalid"}},
	}
	ls := []string{testHeader}
	for _, c := range cases {
		if c.raw != "" {
			ls = append(ls, c.raw)
		} else {
			ls = append(ls, c.row.line())
		}
	}
	fx := runCSV(t, testMapping, ls, nil)
	res := fx.must(t)
	outcomes := fx.outcomes(t)
	if res.Rows != int64(len(cases)) || int64(len(outcomes)) != res.Rows {
		t.Fatalf("rows %d, ledger rows %d, want %d", res.Rows, len(outcomes), len(cases))
	}
	var total int
	for i, c := range cases {
		pos := int64(i + 1)
		t.Run(c.name, func(t *testing.T) {
			got := findingsOf(res, pos)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("row %d findings %v, want %v", pos, got, c.want)
			}
			wantOutcome := checkpoint.Valid
			if len(c.want) > 0 {
				wantOutcome = checkpoint.Invalid
			}
			if o := outcomes[pos]; o.Outcome != wantOutcome {
				t.Errorf("row %d ledger outcome %s, want %s", pos, o.Outcome, wantOutcome)
			}
		})
		total += len(c.want)
	}
	if res.Findings != int64(total) || res.Invalid != int64(len(cases)-1) || res.Valid != 1 {
		t.Errorf("findings %d invalid %d valid %d, want %d %d 1", res.Findings, res.Invalid, res.Valid, total, len(cases)-1)
	}
	if !res.Problems() {
		t.Error("Problems() is false with invalid rows")
	}
	// The files hold every finding, in row order, with positions and lines.
	jl := readJSONL(t, res.Files[0])
	if len(jl) != total {
		t.Fatalf("findings.jsonl has %d lines, want %d", len(jl), total)
	}
	for i := 1; i < len(jl); i++ {
		if jl[i].Pos < jl[i-1].Pos {
			t.Fatalf("findings.jsonl out of row order at line %d", i+1)
		}
	}
	if jl[0].Line != jl[0].Pos+1 {
		t.Errorf("first finding line %d, want %d (the header is line 1)", jl[0].Line, jl[0].Pos+1)
	}
	rows := readCSV(t, res.Files[1])
	if len(rows) != total+1 || strings.Join(rows[0], ",") != "pos,line,key,field,source,code,reason,severity" {
		t.Errorf("findings.csv: %d rows, header %v", len(rows), rows[0])
	}
}

func TestCleanSourceHasNoProblems(t *testing.T) {
	res := runCSV(t, testMapping, lines(good(1), good(2), good(3)), nil).must(t)
	if res.Problems() || res.Findings != 0 || res.Valid != 3 {
		t.Fatalf("clean source: problems %v, findings %d, valid %d", res.Problems(), res.Findings, res.Valid)
	}
}

func TestDuplicatesNameEveryRow(t *testing.T) {
	r := []row{good(1), good(2), good(3), good(4), good(5), good(6), good(7)}
	r[0].email, r[2].email, r[4].email = "Same@Example.com", "same@example.com", "SAME@example.COM"
	r[1].username, r[3].username = "jdoe", "JDoe"
	r[5].id = r[0].id // the legacy key twice
	r[6].phone, r[1].phone = "+1 415 555 0132", "(415) 555-0132"
	for _, chunk := range []int{0, 64} { // in memory, and spilled in many tiny sorted runs
		t.Run("chunk="+strconv.Itoa(chunk), func(t *testing.T) {
			fx := runCSV(t, testMapping, lines(r...), func(c *Config) { c.SortChunkBytes = chunk })
			res := fx.must(t)
			want := map[int64][]string{
				1: {"email_address:duplicate_email", "external_id:duplicate_external_id"},
				2: {"phone_number:duplicate_phone", "username:duplicate_username"},
				3: {"email_address:duplicate_email"},
				4: {"username:duplicate_username"},
				5: {"email_address:duplicate_email"},
				6: {"external_id:duplicate_external_id"},
				7: {"phone_number:duplicate_phone"},
			}
			for pos, w := range want {
				got := findingsOf(res, pos)
				slices.Sort(got)
				if !slices.Equal(got, w) {
					t.Errorf("row %d: %v, want %v", pos, got, w)
				}
			}
			reason := reasonOf(res, 3, verdict.CodeDuplicateEmail)
			if !strings.Contains(reason, "rows 1, 5 (keys 1001, 1005)") {
				t.Errorf("row 3's reason does not name rows 1 and 5: %q", reason)
			}
			if r1 := reasonOf(res, 1, verdict.CodeDuplicateEmail); !strings.Contains(r1, "rows 3, 5 (keys 1003, 1005)") ||
				!strings.Contains(r1, "comes first") {
				t.Errorf("row 1's reason: %q", r1)
			}
			// The row that keeps a value is imported: its finding is a
			// warning; a later row's is an error.
			for _, f := range res.Kept {
				if want := verdict.SeverityOf(f.Pos <= 2); f.Severity != want {
					t.Errorf("row %d %s: severity %s, want %s", f.Pos, f.Code, f.Severity, want)
				}
			}
			if res.Warnings != 4 {
				t.Errorf("%d warnings, want the 4 of the rows that keep a value", res.Warnings)
			}
			// Counted apart by severity: one row keeps each value (a
			// warning), the others are refused (errors: two for the email).
			if len(res.ByCode) != 8 {
				t.Errorf("%d code counts, want 4 codes twice: %+v", len(res.ByCode), res.ByCode)
			}
			for _, cc := range res.ByCode {
				want := int64(1)
				if cc.Code == verdict.CodeDuplicateEmail && !cc.Warning {
					want = 2
				}
				if cc.Count != want {
					t.Errorf("%s (warning %v): %d findings, want %d", cc.Code, cc.Warning, cc.Count, want)
				}
			}
			// The first row of each value stays valid; every later one is invalid.
			out := fx.outcomes(t)
			wantOut := map[int64]checkpoint.Outcome{1: "valid", 2: "valid", 3: "invalid", 4: "invalid", 5: "invalid",
				6: "invalid", 7: "invalid"}
			for pos, w := range wantOut {
				if out[pos].Outcome != w {
					t.Errorf("row %d outcome %s, want %s (%s)", pos, out[pos].Outcome, w, out[pos].Message)
				}
			}
			if res.Valid != 2 || res.Invalid != 5 || res.DuplicateValues != 4 {
				t.Errorf("valid %d invalid %d duplicate values %d, want 2 5 4", res.Valid, res.Invalid, res.DuplicateValues)
			}
			if p, _ := fx.store.Progress(context.Background(), res.RunID); p.ByOutcome["invalid"] != 5 || p.ByOutcome["valid"] != 2 {
				t.Errorf("ledger counts %v", p.ByOutcome)
			}
		})
	}
}

func TestForcedHashCollisionMakesNoFalseDuplicate(t *testing.T) {
	var rs []row
	for i := 1; i <= 50; i++ {
		rs = append(rs, good(i))
	}
	rs[40].email = rs[9].email // one true duplicate among values that all collide
	collide := func(string) uint64 { return 42 }
	for _, chunk := range []int{0, 128} {
		res := runCSV(t, testMapping, lines(rs...), func(c *Config) { c.Hash = collide; c.SortChunkBytes = chunk }).must(t)
		if res.Findings != 2 || res.DuplicateValues != 1 {
			t.Fatalf("chunk %d: %d findings, %d duplicate values; want 2 and 1: %+v", chunk, res.Findings, res.DuplicateValues, res.Kept)
		}
		if got := findingsOf(res, 41); len(got) != 1 || got[0] != "email_address:duplicate_email" {
			t.Errorf("row 41: %v", got)
		}
	}
}

func reasonOf(res *Result, pos int64, code string) string {
	for _, f := range res.Kept {
		if f.Pos == pos && f.Code == code {
			return f.Reason
		}
	}
	return ""
}

func readJSONL(t *testing.T, path string) []verdict.Finding {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []verdict.Finding
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var fd verdict.Finding
		if err := json.Unmarshal(sc.Bytes(), &fd); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, fd)
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func samplePaths(t *testing.T) (csvPath, mapPath, canaries string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "legacy_users.csv"), filepath.Join(root, "legacy_users.mapping.yaml"),
		filepath.Join(root, "canaries.txt")
}

func TestCanariesOnTheSample(t *testing.T) {
	csvPath, mapPath, canPath := samplePaths(t)
	f, err := os.Open(canPath)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ReadCanaries(f)
	f.Close()
	if err != nil || len(cs) < 10 {
		t.Fatalf("canaries: %d, %v", len(cs), err)
	}
	wrong := Canary{Email: "ALICE.WALKER@example.com", Password: "not-her-password"}
	missing := Canary{Email: "nobody@example.com", Password: "whatever-123"}
	all := append(slices.Clone(cs), wrong, missing)
	res := runFiles(t, t.TempDir(), csvPath, mapPath, func(c *Config) { c.Canaries = all }).must(t)
	if len(res.Canaries) != len(all) {
		t.Fatalf("%d canary results for %d canaries", len(res.Canaries), len(all))
	}
	for i, c := range res.Canaries[:len(cs)] {
		if c.Status != CanaryVerified || c.Pos == 0 {
			t.Errorf("canary %d (%s): %s %s", i, c.Email, c.Status, c.Detail)
		}
	}
	if w := res.Canaries[len(cs)]; w.Status != CanaryWrong || w.Key != "1001" || w.Hasher != "bcrypt" {
		t.Errorf("wrong password canary: %+v", w)
	}
	if m := res.Canaries[len(cs)+1]; m.Status != CanaryNotFound {
		t.Errorf("unknown email canary: %+v", m)
	}
	// The sample's own problems: 5 bad rows, and 1038 refused for 1005's address.
	if res.Invalid != 6 || res.Rows != 41 {
		t.Errorf("sample: %d invalid of %d rows, want 6 of 41", res.Invalid, res.Rows)
	}
}

func TestParseCanary(t *testing.T) {
	for _, c := range []struct {
		in      string
		ok      bool
		pw      string
		display string
	}{
		{"a@b.c:pw:with:colons", true, "pw:with:colons", "a@b.c"},
		{"a@b.c:", false, "", ""},
		{"no-at:pw", false, "", ""},
		{"a@b.c", false, "", ""},
	} {
		got, err := ParseCanary(c.in)
		if (err == nil) != c.ok || (c.ok && (got.Password != c.pw || got.String() != c.display)) {
			t.Errorf("ParseCanary(%q) = %+v, %v", c.in, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error names the password: %v", err)
		}
	}
}

func TestDetectHasher(t *testing.T) {
	noHasher := strings.Replace(testMapping, "  password_hasher: hasher\n", "", 1)
	argon := "$argon2id$v=19$m=19456,t=2,p=1$KxS8WuMqcPqxLNVcb8oX4Q$3UPn4C1xrLeInp6aWF3qzwlwkujywROwH6ee1Wnly34"
	r1, r2, r3 := good(1), good(2), good(3)
	r2.hash = argon
	// A Django string also reads as the generic pbkdf2_sha256 form.
	r3.hash = "pbkdf2_sha256$260000$abcdefghijklmnop$TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsuISEhISE="
	det, err := DetectingMapping([]byte(noHasher))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(det.DigestPaths, []string{"hash"}) {
		t.Fatalf("digest paths %v", det.DigestPaths)
	}
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "users.csv", strings.Join(lines(r1, r2, r3), "\n")+"\n")
	res := runMapping(t, dir, csvPath, det.Mapping, func(c *Config) { c.DetectHasher = det }).must(t)
	hs := map[string]int64{}
	for _, h := range res.Coverage.Hashers {
		hs[h.Name] = h.Count
	}
	if hs["bcrypt (detected)"] != 1 || hs["argon2id (detected)"] != 1 || hs["pbkdf2_sha256_django (detected)"] != 1 {
		t.Errorf("hashers %v", res.Coverage.Hashers)
	}
	if got := findingsOf(res, 3); len(got) != 1 || got[0] != "password_hasher:hasher_ambiguous" {
		t.Errorf("row 3 (a Django pbkdf2 digest) findings %v", got)
	}
	if _, err := DetectingMapping([]byte(testMapping)); err != ErrHasherMapped {
		t.Errorf("a mapping with a hasher: %v", err)
	}
}

func TestCoverage(t *testing.T) {
	a, b, c := good(1), good(2), good(3)
	a.totp = totpOK
	a.other = "second@example.com"
	b.hash, b.hasher = "", ""
	c.codes = `["abc-123","def-456"]`
	res := runCSV(t, testMapping, lines(a, b, c), nil).must(t)
	cv := res.Coverage
	if cv.Rows != 3 || cv.WithMFA != 2 || cv.WithoutPassword != 1 || cv.WithSeveralEmails != 1 {
		t.Errorf("coverage %+v", cv)
	}
	fields := map[string]int64{}
	for _, f := range cv.Fields {
		fields[f.Name] = f.Count
	}
	if fields["email_address"] != 3 || fields["password_digest"] != 2 || fields["totp_secret"] != 1 || fields["backup_codes"] != 1 {
		t.Errorf("fields %v", fields)
	}
	if len(cv.Hashers) != 1 || cv.Hashers[0] != (reports.Count{Name: "bcrypt", Count: 2}) {
		t.Errorf("hashers %v", cv.Hashers)
	}
}

func TestCheckTargetAgainstTheEmulator(t *testing.T) {
	const key = "sk_live_validate_test" // 1000 requests per 10 s
	srv, err := emulator.Start(emulator.Config{SecretKey: key, InstanceID: "ins_checked"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Already in Clerk: row 7's user (same external_id), and row 12's email
	// under another legacy id.
	if _, err := api.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("1007"),
		EmailAddresses: []string{"user7@example.com"}, SkipPasswordRequirement: request.Value(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("other-system-9"),
		EmailAddresses: []string{"user12@example.com"}, SkipPasswordRequirement: request.Value(true)}); err != nil {
		t.Fatal(err)
	}
	const n = 250
	var rs []row
	for i := 1; i <= n; i++ {
		rs = append(rs, good(i))
	}
	before := srv.Emulator().Stats()
	fx := runCSV(t, testMapping, lines(rs...), func(c *Config) {
		c.Target = &TargetCheck{Gateway: gateway.New(api, gateway.Config{}), Name: srv.URL() + " (live)"}
	})
	res := fx.must(t)
	after := srv.Emulator().Stats()
	gets := after.Routes["GET /v1/users"].Total - before.Routes["GET /v1/users"].Total
	pre := after.Routes["GET /v1/instance"].Total - before.Routes["GET /v1/instance"].Total
	want := 2 * ((n + MaxFilterValues - 1) / MaxFilterValues) // ⌈n/100⌉ by external_id, the same by email
	if gets != want || pre != 1 || res.Target.Requests != int64(want+1) {
		t.Errorf("%d GET /v1/users and %d GET /v1/instance (target says %d), want %d and the pre-flight", gets, pre, res.Target.Requests, want)
	}
	if other := after.Total - before.Total - gets - pre; other != 0 {
		t.Errorf("%d requests other than GET /v1/users and the pre-flight: the check must only read", other)
	}
	run, err := checkpoint.FindRun(context.Background(), fx.store, res.RunID)
	if err != nil || run.Meta[checkpoint.MetaInstance] != "ins_checked" || run.Meta[checkpoint.MetaEnvironment] != "production" ||
		run.Meta[checkpoint.MetaTarget] != srv.URL()+" (live)" {
		t.Errorf("the run recorded %v (%v), want the instance it checked against", run.Meta, err)
	}
	if got := findingsOf(res, 7); len(got) != 1 || got[0] != "external_id:exists_in_target" {
		t.Errorf("row 7: %v", got)
	}
	if got := findingsOf(res, 12); len(got) != 1 || got[0] != "email_address:email_exists_in_target" {
		t.Errorf("row 12: %v", got)
	}
	if res.Target.ByExternalID != 1 || res.Target.ByEmail != 1 || res.Findings != 2 {
		t.Errorf("target %+v, findings %d", res.Target, res.Findings)
	}
	out := fx.outcomes(t)
	if out[12].Outcome != checkpoint.Invalid || out[7].Outcome != checkpoint.Valid {
		t.Errorf("outcomes: row 7 %s, row 12 %s", out[7].Outcome, out[12].Outcome)
	}
}

// TestNoSecretLeaves plants digests, TOTP secrets, backup codes and canary
// passwords in rows with problems and looks for them in every file written.
func TestNoSecretLeaves(t *testing.T) {
	secrets := []string{bcryptA, totpOK, "q7x-k2m-p9z", "zz8-yy7-xx6", "correct-horse-17", "not-her-password",
		"3132333435363738393031323334353637383930", bcryptA[:40], bcryptA[7:29]}
	a, b, c, d := good(1), good(2), good(3), good(4)
	a.email = "broken"                        // a digest on an invalid row
	a.totp = totpOK                           // and a TOTP secret
	a.codes = `["q7x-k2m-p9z","zz8-yy7-xx6"]` // and backup codes
	b.totp = secrets[6]                       // a hex TOTP secret (refused)
	c.hash = bcryptA[:40]                     // a digest cut short (refused)
	d.hash, d.hasher = bcryptA, "md5"         // a digest of another hasher (refused)
	e := good(5)
	e.email = a.email + "x"
	cans := []Canary{{Email: "user1@example.com", Password: "correct-horse-17"},
		{Email: "user6@example.com", Password: "not-her-password"}}
	f6 := good(6)
	fx := runCSV(t, testMapping, lines(a, b, c, d, e, f6), func(c *Config) { c.Canaries = cans })
	res := fx.must(t)
	if res.Invalid < 4 {
		t.Fatalf("only %d invalid rows: the planted problems were not found", res.Invalid)
	}
	files, err := reports.Write(context.Background(), fx.store, res.RunID, filepath.Join(fx.dir, "out", res.RunID),
		reports.Options{Validation: res.Validation()})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, p := range append(files.All(), res.Files...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, p+"\x00"+string(b))
	}
	ledger, _ := os.ReadFile(filepath.Join(fx.dir, "ledger.db"))
	texts = append(texts, "ledger.db\x00"+string(ledger))
	for _, cr := range res.Canaries {
		texts = append(texts, "canary\x00"+cr.Detail+cr.Email+cr.Hasher)
	}
	for _, txt := range texts {
		name, body, _ := strings.Cut(txt, "\x00")
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s holds a secret (%d bytes, starts %.4q)", filepath.Base(name), len(s), s)
			}
		}
	}
}

// TestBadRowStillGetsDuplicateFindings: a row with a cut digest that also
// repeats another row's email gets both findings; being refused already, it
// does not take the email from the valid row, which stays valid, and a
// later valid row with the email is refused in favour of the first valid one.
func TestBadRowStillGetsDuplicateFindings(t *testing.T) {
	r := []row{good(1), good(2), good(3), good(4)}
	r[1].hash = bcryptA[:30] // cut digest
	r[1].email = "Shared@example.com"
	r[2].email = "shared@example.com"
	r[3].email = "shared@EXAMPLE.com"
	r[0].username, r[1].username = "jdoe", "JDOE"
	fx := runCSV(t, testMapping, lines(r...), nil)
	res := fx.must(t)
	want := map[int64][]string{
		1: {"username:duplicate_username"},
		2: {"email_address:duplicate_email", "password_digest:digest_invalid", "username:duplicate_username"},
		3: {"email_address:duplicate_email"},
		4: {"email_address:duplicate_email"},
	}
	for pos, w := range want {
		got := findingsOf(res, pos)
		slices.Sort(got)
		if !slices.Equal(got, w) {
			t.Errorf("row %d: %v, want %v", pos, got, w)
		}
	}
	if reason := reasonOf(res, 2, verdict.CodeDuplicateEmail); !strings.Contains(reason, "rows 3, 4") ||
		!strings.Contains(reason, "other problems") {
		t.Errorf("row 2's reason: %q", reason)
	}
	if reason := reasonOf(res, 4, verdict.CodeDuplicateEmail); !strings.Contains(reason, "duplicate of row 3") {
		t.Errorf("row 4's reason: %q", reason)
	}
	if reason := reasonOf(res, 1, verdict.CodeDuplicateUsername); !strings.Contains(reason, "creates this one") {
		t.Errorf("row 1's reason: %q", reason)
	}
	out := fx.outcomes(t)
	wantOut := map[int64]checkpoint.Outcome{1: "valid", 2: "invalid", 3: "valid", 4: "invalid"}
	for pos, w := range wantOut {
		if out[pos].Outcome != w {
			t.Errorf("row %d outcome %s, want %s (%s)", pos, out[pos].Outcome, w, out[pos].Message)
		}
	}
	if res.Valid != 2 || res.Invalid != 2 {
		t.Errorf("valid %d invalid %d, want 2 2", res.Valid, res.Invalid)
	}
	if p, _ := fx.store.Progress(context.Background(), res.RunID); p.ByOutcome["invalid"] != 2 || p.ByOutcome["valid"] != 2 {
		t.Errorf("ledger counts %v", p.ByOutcome)
	}
}
