package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/stores"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// testMapping maps the columns of the small test CSVs.
const testMapping = `version: 1
key: id
options:
  required_identifiers: [email_address]
  default_phone_region: US
fields:
  email_address: { from: [email, other_emails], split: "|", transform: [trim, lower], verified: true }
  first_name: first_name
  username: { from: username, transform: [trim] }
  phone_number: { from: phone, verified: true }
  password_digest: hash
  password_hasher: hasher
  skip_password_requirement: { value: true }
  totp_secret: totp
  backup_codes: { from: codes, split: json }
  public_metadata: { from: meta, parse: json }
  created_at: { from: created, parse: timestamp }
`

const testHeader = "id,email,other_emails,first_name,username,phone,hash,hasher,totp,codes,meta,created"

// Real digests, for rows that must map cleanly.
const (
	bcryptA = "$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6"
	totpOK  = "WTO7DYBT63FXLIR2LW7JKKHIPTWNVM2D"
)

// writeFile writes content into dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture is one validation over real files in a temporary directory.
type fixture struct {
	dir    string
	store  checkpoint.Store
	res    *Result
	runErr error
}

// runCSV validates a CSV (header + lines) with a mapping, a SQLite ledger
// and findings files, all in t.TempDir().
func runCSV(t *testing.T, mappingYAML string, lines []string, tweak func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "users.csv", strings.Join(lines, "\n")+"\n")
	mapPath := writeFile(t, dir, "m.yaml", mappingYAML)
	return runFiles(t, dir, csvPath, mapPath, tweak)
}

func runFiles(t *testing.T, dir, csvPath, mapPath string, tweak func(*Config)) *fixture {
	t.Helper()
	m, err := mapping.Load(mapPath)
	if err != nil {
		t.Fatal(err)
	}
	return runMapping(t, dir, csvPath, m, tweak)
}

// runMapping validates the CSV at csvPath with a compiled mapping.
func runMapping(t *testing.T, dir, csvPath string, m *mapping.Mapping, tweak func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	src, err := sources.Open(ctx, sources.Spec{Location: csvPath, KeyPath: m.Key()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	st, err := stores.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := Config{Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
		OutDir: filepath.Join(dir, "out"), TempDir: dir}
	if tweak != nil {
		tweak(&cfg)
	}
	res, err := Run(ctx, cfg)
	return &fixture{dir: dir, store: st, res: res, runErr: err}
}

// must fails the test when the run failed.
func (f *fixture) must(t *testing.T) *Result {
	t.Helper()
	if f.runErr != nil {
		t.Fatalf("Run: %v", f.runErr)
	}
	return f.res
}

// findingsOf lists the findings of the row at pos, as "field:code".
func findingsOf(res *Result, pos int64) []string {
	var out []string
	for _, f := range res.Kept {
		if f.Pos == pos {
			out = append(out, f.Field+":"+f.Code)
		}
	}
	return out
}

// outcomes reads the ledger: position → outcome.
func (f *fixture) outcomes(t *testing.T) map[int64]checkpoint.RowState {
	t.Helper()
	out := map[int64]checkpoint.RowState{}
	err := f.store.Rows(context.Background(), f.res.RunID, checkpoint.Filter{}, func(r checkpoint.RowState) error {
		out[r.Pos] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
