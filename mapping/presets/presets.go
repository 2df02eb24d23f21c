// Package presets holds mapping files that work as they are for the
// exports of common auth systems (Auth0, Firebase, Supabase, Better Auth,
// Auth.js, Django, Clerk itself), with what each expects of its source: the
// kind of file, the JSON array path, the key, the SQL query for a database,
// the header of a header-less CSV.
//
// Each preset's YAML (embedded, commented with the export format it
// expects) is an ordinary mapping file: `clerkmigrate presets NAME` prints
// it, so it can be copied and edited into a mapping of one's own.
package presets

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

//go:embed *.yaml
var files embed.FS

// Source says what a preset expects of its source.
type Source struct {
	// Kinds are the source kinds the export comes as ("jsonl", "json",
	// "csv", "postgres"), the usual one first.
	Kinds []string
	// Key is the column or path of the legacy user id (the mapping's key).
	Key string
	// ArrayPath is the users array inside a JSON object ("users" for
	// Firebase's {"users":[...]}); used when --array-path is not given.
	ArrayPath string
	// Query reads the users from the system's own Postgres database; used
	// when the source is Postgres and neither --table nor --query is given.
	Query string
	// Variants are the database schemas the system comes with, when there
	// are several (Auth.js: one per adapter), each with its own query;
	// Resolve picks the one the database has. Query is then empty.
	Variants []Variant
	// CSVHeader names the columns of an export written without a header
	// line (Firebase's CSV); the CLI puts it in front of such a file.
	CSVHeader []string
	// LazyQuotes reads CSV whose quoting is loose (Firebase quotes display
	// names with commas but not the quotes inside them).
	LazyQuotes bool
	// Optional are paths the mapping reads only where the source has them
	// (Supabase's CSV has no totp_secret column and cannot be walked into
	// raw_user_meta_data); Notices say so. Any other column the source
	// lacks is refused before the first row.
	Optional []string
}

// Preset is one mapping file for one system's export.
type Preset struct {
	Name        string
	Description string
	Source      Source
	// Notices are what the preset cannot carry over, or carries over in a
	// way to know of, to say before a run where they apply
	// (NoticesFor): passwords in a hash Clerk cannot verify, MFA secrets
	// not exported.
	Notices []Notice
	// Mapping is the mapping file (YAML, commented).
	Mapping []byte
}

// Load compiles the preset's mapping. Its parameters ({param:name}) are
// still to be bound with WithParams.
func (p *Preset) Load() (*mapping.Mapping, error) {
	m, err := mapping.Parse(p.Mapping)
	if err != nil {
		return nil, fmt.Errorf("preset %s: %w", p.Name, err)
	}
	return m, nil
}

// Spec fills in a source Spec the preset's hints where the user left them
// empty: the key, the JSON array path, the query of a Postgres source (of a
// preset with one query; see Resolve for one with Variants), CSV lazy
// quotes.
func (p *Preset) Spec(spec sources.Spec) sources.Spec {
	spec.KeyPath = p.Source.Key
	if spec.ArrayPath == "" {
		spec.ArrayPath = p.Source.ArrayPath
	}
	if spec.Table == "" && spec.Query == "" && p.Source.Query != "" && isPostgres(spec) {
		spec.Query = p.Source.Query
	}
	if p.Source.LazyQuotes {
		spec.LazyQuotes = true
	}
	return spec
}

// isPostgres reports whether a Spec names a Postgres source.
func isPostgres(spec sources.Spec) bool {
	switch strings.ToLower(spec.Kind) {
	case "postgres", "postgresql", "pg":
		return true
	case "":
		loc := strings.ToLower(spec.Location)
		return strings.HasPrefix(loc, "postgres://") || strings.HasPrefix(loc, "postgresql://")
	}
	return false
}

// registry describes every preset; the mappings are the embedded files of
// the same names.
var registry = []Preset{
	{
		Name:        "auth0",
		Description: "Auth0 bulk user export (users-exports job, JSON Lines); bcrypt passwords when the support hash export is merged in",
		Source:      Source{Kinds: []string{"jsonl"}, Key: "user_id"},
		Notices: []Notice{
			{Text: "the export has no passwords (no passwordHash in it): merge the support ticket's hash export in first " +
				"(docs/PRESETS.md), or users sign in with a reset", UnlessPath: "passwordHash"},
			{Text: "Auth0 exports no MFA secrets: enrolled users enrol again"},
		},
	},
	{
		Name:        "firebase",
		Description: "firebase auth:export, JSON ({\"users\":[...]}) or header-less CSV; scrypt_firebase from the project's hash parameters",
		Source: Source{Kinds: []string{"json", "csv"}, Key: "localId", ArrayPath: "users", LazyQuotes: true,
			CSVHeader: firebaseCSVHeader},
		Notices: []Notice{
			{Text: "auth:export has no MFA factors: enrolled users enrol again"},
			{Text: "Firebase records no verification for phone numbers: they are created reserved (unverified, usable for sign-in)",
				IfPath: "phoneNumber"},
		},
	},
	{
		Name:        "supabase",
		Description: "Supabase auth.users, as CSV or from its Postgres (bcrypt passwords, TOTP factors, banned_until)",
		Source: Source{Kinds: []string{"postgres", "csv"}, Key: "id", Query: supabaseQuery,
			Optional: []string{"raw_user_meta_data.full_name", "raw_user_meta_data.name", "totp_secret"}},
		Notices: []Notice{
			{Text: "from a CSV, names inside raw_user_meta_data are not read (they stay in unsafe_metadata) and TOTP factors are not in it",
				Kinds: []string{"csv"}},
		},
	},
	{
		Name:        "betterauth",
		Description: "Better Auth user + account tables (Postgres); scrypt passwords as Clerk's scrypt_werkzeug",
		Source:      Source{Kinds: []string{"postgres", "csv"}, Key: "id", Query: betterAuthQuery},
		Notices: []Notice{
			{Text: "Better Auth's scrypt passwords go as scrypt_werkzeug digests (the same scrypt, N=16384 r=16 p=1, " +
				"salt and key); Better Auth hashes the password's NFKC form, Clerk the password as typed, so a password " +
				"that NFKC changes (full-width letters, ligatures such as ﬁ) does not verify and its user resets it; " +
				"each digest carries a digest_open warning (Clerk's docs write this hasher's layout two ways): sign in one " +
				"migrated test user before the full run"},
			{Text: "a credential password in no form Clerk reads is not imported: private_metadata.password_not_migrated " +
				"= better_auth_unknown_hash marks its user for a reset"},
		},
	},
	{
		Name:        "authjs",
		Description: "Auth.js (NextAuth) users and accounts (Postgres: the Prisma, pg or Drizzle adapter's tables); no passwords",
		Source:      Source{Kinds: []string{"postgres", "csv"}, Key: "id", Variants: authjsVariants},
		Notices: []Notice{
			{Text: "Auth.js keeps no passwords: users sign in with the same OAuth providers or email codes in Clerk"},
		},
	},
	{
		Name:        "django",
		Description: "Django auth_user (Postgres): pbkdf2_sha256, bcrypt_sha256, argon2 and bcrypt passwords as Django stores them",
		Source:      Source{Kinds: []string{"postgres", "csv"}, Key: "id", Query: djangoQuery},
		Notices: []Notice{
			{Text: "passwords of other Django hashers (md5, sha1, unsalted, crypt, scrypt) are not imported; private_metadata.password_not_migrated names the hasher"},
			{Text: "auth_user records no email verification: addresses are created reserved (unverified, usable for sign-in)"},
		},
	},
	{
		Name:        "clerk",
		Description: "Clerk Dashboard user export CSV (passwords and TOTP secrets included)",
		Source:      Source{Kinds: []string{"csv"}, Key: "id"},
		Notices: []Notice{
			{Text: "the Dashboard export has no metadata and no backup codes"},
		},
	},
}

// Names lists the presets, sorted.
func Names() []string {
	names := make([]string, len(registry))
	for i, p := range registry {
		names[i] = p.Name
	}
	slices.Sort(names)
	return names
}

// ErrUnknown is returned by Get for a name that is no preset.
var ErrUnknown = errors.New("no such preset")

// Get returns a copy of the named preset, with its mapping file.
func Get(name string) (*Preset, error) {
	for _, p := range registry {
		if p.Name != strings.ToLower(strings.TrimSpace(name)) {
			continue
		}
		data, err := files.ReadFile(p.Name + ".yaml")
		if err != nil {
			return nil, err
		}
		c := p
		c.Source.Kinds = slices.Clone(p.Source.Kinds)
		c.Source.CSVHeader = slices.Clone(p.Source.CSVHeader)
		c.Source.Optional = slices.Clone(p.Source.Optional)
		c.Source.Variants = slices.Clone(p.Source.Variants)
		c.Notices = slices.Clone(p.Notices)
		c.Mapping = data
		return &c, nil
	}
	return nil, fmt.Errorf("%w %q; presets: %s", ErrUnknown, name, strings.Join(Names(), ", "))
}

// firebaseCSVHeader names the 29 fields of a row of `firebase auth:export
// --format=csv` (firebase-tools src/accountExporter.ts: 28 values and a
// trailing comma), with the names its JSON export uses.
var firebaseCSVHeader = []string{
	"localId", "email", "emailVerified", "passwordHash", "salt", "displayName", "photoUrl",
	"googleId", "googleEmail", "googleDisplayName", "googlePhotoUrl",
	"facebookId", "facebookEmail", "facebookDisplayName", "facebookPhotoUrl",
	"twitterId", "twitterEmail", "twitterDisplayName", "twitterPhotoUrl",
	"githubId", "githubEmail", "githubDisplayName", "githubPhotoUrl",
	"createdAt", "lastSignedInAt", "phoneNumber", "disabled", "customAttributes", "trailing",
}

// WithCSVHeader returns the path of a CSV that has the preset's header
// line: path itself when the preset has none or the file already starts
// with it, else a copy with the header in front, in a new private
// directory under dir (os.TempDir when empty) that cleanup removes. The
// copy's content depends only on the file's, so a re-run over the same
// export resumes the same run.
func (p *Preset) WithCSVHeader(path, dir string) (string, func(), error) {
	noop := func() {}
	if len(p.Source.CSVHeader) == 0 {
		return path, noop, nil
	}
	in, err := os.Open(path)
	if err != nil {
		return "", noop, err
	}
	defer in.Close()
	header := strings.Join(p.Source.CSVHeader, ",")
	r := bufio.NewReader(in)
	first, err := r.Peek(len(header))
	if err == nil && strings.EqualFold(string(first), header) {
		return path, noop, nil
	}
	tmp, err := os.MkdirTemp(dir, "clerkmigrate-preset-")
	if err != nil {
		return "", noop, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	outPath := filepath.Join(tmp, filepath.Base(path))
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = io.WriteString(out, header+"\n")
		if err == nil {
			_, err = io.Copy(out, r)
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		cleanup()
		return "", noop, fmt.Errorf("preset %s: adding the CSV header: %w", p.Name, err)
	}
	return outPath, cleanup, nil
}

// Reads reports whether the preset reads a source of this kind ("csv",
// "tsv", "json", "jsonl", "postgres", as sources.KindOf says). JSON and
// JSON Lines are one family (the same objects, in an array or one a line),
// and so are CSV and TSV.
func (p *Preset) Reads(kind string) bool {
	return slices.ContainsFunc(p.Source.Kinds, func(k string) bool { return family(k) == family(kind) })
}

// family is a source kind's family: JSON Lines reads as JSON, TSV as CSV.
func family(kind string) string {
	switch kind {
	case "jsonl":
		return "json"
	case "tsv":
		return "csv"
	}
	return kind
}
