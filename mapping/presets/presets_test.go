package presets_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
	"github.com/clerkmigrate/clerkmigrate/mapping/presets"
	"github.com/clerkmigrate/clerkmigrate/sources"
	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
)

// The firebase/scrypt README's example project parameters (the same as in
// mapping/hashers/testdata/vectors.json).
const (
	fbSignerKey = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
	fbSeparator = "Bw=="
)

var fbParams = mapping.Params{"base64_signer_key": fbSignerKey, "base64_salt_separator": fbSeparator, "rounds": "8", "mem_cost": "14"}

func TestNamesAndGet(t *testing.T) {
	want := []string{"auth0", "authjs", "betterauth", "clerk", "django", "firebase", "supabase"}
	if got := presets.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names = %v", got)
	}
	for _, name := range want {
		p, err := presets.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := p.Load()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Name != name || p.Description == "" || len(p.Source.Kinds) == 0 || len(p.Notices) == 0 {
			t.Errorf("%s: incomplete preset %+v", name, p)
		}
		if m.Key() != p.Source.Key {
			t.Errorf("%s: mapping key %q, source hint %q", name, m.Key(), p.Source.Key)
		}
		if !bytes.HasPrefix(p.Mapping, []byte("# Preset \""+name+"\"")) {
			t.Errorf("%s: the mapping does not start with its comment", name)
		}
		// Get hands out copies.
		p.Source.Kinds[0] = "changed"
		if again, _ := presets.Get(name); again.Source.Kinds[0] == "changed" {
			t.Errorf("%s: Get shares its slices", name)
		}
	}
	if _, err := presets.Get("okta"); !errors.Is(err, presets.ErrUnknown) || !strings.Contains(err.Error(), "firebase") {
		t.Fatalf("unknown preset: %v", err)
	}
	fb, _ := presets.Get("firebase")
	if m, _ := fb.Load(); !reflect.DeepEqual(m.ParamNames(), []string{"base64_salt_separator", "base64_signer_key", "mem_cost", "rounds"}) {
		t.Errorf("firebase params %v", m.ParamNames())
	}
}

// mapRecords maps every record of a preset's source (secrets included,
// which the emulator does not keep), by key.
func mapRecords(t *testing.T, name string, spec sources.Spec, params mapping.Params) map[string]*request.CreateUser {
	t.Helper()
	p, _ := presets.Get(name)
	m, err := p.Load()
	if err != nil {
		t.Fatal(err)
	}
	if params != nil {
		if m, err = m.WithParams(params); err != nil {
			t.Fatal(err)
		}
	}
	spec, _, err = p.Resolve(context.Background(), spec, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(spec.Location, ".csv") {
		path, cleanup, err := p.WithCSVHeader(spec.Location, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		spec.Location = path
	}
	src, err := sources.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := map[string]*request.CreateUser{}
	for {
		rec, err := src.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		req, errs := m.Map(rec)
		for _, e := range errs {
			// scrypt_werkzeug digests (Better Auth's) carry a warning:
			// Clerk's docs leave their layout open.
			if !e.Warning || e.Code != mapping.CodeDigestOpen || req.PasswordHasher != "scrypt_werkzeug" {
				t.Fatalf("%s: %v", rec.Pos, errs)
			}
		}
		out[rec.Key] = req
	}
}

// wantCreated checks every row became a user.
func wantCreated(t *testing.T, r *run, n int) {
	t.Helper()
	if got := r.sum.ByOutcome[checkpoint.Created]; got != int64(n) || len(r.users) != n {
		b, _ := os.ReadFile(filepath.Join(r.dir, "reports", "failures.csv"))
		t.Logf("failures:\n%s", b)
		t.Fatalf("created %d (%d users in the emulator), want %d: %+v", got, len(r.users), n, r.sum.ByOutcome)
	}
}

// jsonOf renders metadata for comparison.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuth0(t *testing.T) {
	r := importPreset(t, "auth0", fileSpec("auth0.jsonl"), nil)
	wantCreated(t, r, 5)
	ada := r.users["auth0|64f1c0a1e2b3c4d5e6f70001"]
	if !reflect.DeepEqual(emails(ada), []string{"ada@example.com"}) || str(ada.FirstName) != "Ada" || str(ada.LastName) != "Lovelace" ||
		ada.PasswordHasher != "bcrypt" || !ada.HasPasswordDigest || ada.Banned || ada.Username != nil {
		t.Errorf("ada: %+v", ada)
	}
	if got := jsonOf(t, ada.UnsafeMetadata); got != `{"newsletter":true,"theme":"dark"}` {
		t.Errorf("ada unsafe_metadata %s", got)
	}
	if got := jsonOf(t, ada.PrivateMetadata); got != `{"auth0_app_metadata":{"plan":"pro","roles":["admin"]},"auth0_email_verified":true,"auth0_username":"ada_l"}` {
		t.Errorf("ada private_metadata %s", got)
	}
	if ada.CreatedAt != ms(t, "2021-03-04T10:22:01.123Z") {
		t.Errorf("ada created_at %d", ada.CreatedAt)
	}
	grace := r.users["google-oauth2|109876543210987654321"]
	if grace.HasPasswordDigest || grace.PasswordEnabled || str(grace.FirstName) != "Grace" {
		t.Errorf("grace (social, no password): %+v", grace)
	}
	linus := r.users["auth0|64f1c0a1e2b3c4d5e6f70003"]
	if !reflect.DeepEqual(emails(linus), []string{"linus@example.org"}) || !linus.Banned || linus.FirstName != nil {
		t.Errorf("linus (blocked, name is the email): %+v", linus)
	}
	sms := r.users["sms|64f1c0a1e2b3c4d5e6f70004"]
	if !reflect.DeepEqual(phones(sms), []string{"+14155550199"}) || len(sms.EmailAddresses) != 0 {
		t.Errorf("sms user: %+v", sms)
	}
	alan := r.users["auth0|64f1c0a1e2b3c4d5e6f70005"]
	if alan.PrivateMetadata["auth0_username"] != "alan.turing" || alan.Username != nil {
		t.Errorf("alan's username: %+v", alan)
	}
	// email_verified / phone_verified: linus never verified his address.
	wantStatuses(t, r, map[string]string{
		"auth0|64f1c0a1e2b3c4d5e6f70001":      "ada@example.com:verified",
		"google-oauth2|109876543210987654321": "grace.hopper@gmail.com:verified",
		"auth0|64f1c0a1e2b3c4d5e6f70003":      "linus@example.org:reserved",
		"sms|64f1c0a1e2b3c4d5e6f70004":        "+14155550199:verified",
	})
	// The digest that was sent is the user's password.
	reqs := mapRecords(t, "auth0", fileSpec("auth0.jsonl"), nil)
	d, _ := reqs["auth0|64f1c0a1e2b3c4d5e6f70001"].PasswordDigest.Get()
	if ok, err := hashers.Verify("bcrypt", d, "auth0-ada-pw"); !ok || err != nil {
		t.Errorf("ada's digest does not verify: %v", err)
	}
}

// comparable is a snapshot user without what differs between two
// emulators (ids, import times).
func comparable(u emulator.UserState) emulator.UserState {
	u.ID, u.PrimaryEmailAddressID, u.PrimaryPhoneNumberID, u.PrimaryWeb3WalletID = "", "", "", ""
	u.UpdatedAt, u.PasswordLastUpdatedAt, u.MFAEnabledAt = 0, 0, 0
	for _, list := range [][]emulator.Identifier{u.EmailAddresses, u.PhoneNumbers, u.Web3Wallets} {
		for i := range list {
			list[i].ID, list[i].CreatedAt, list[i].UpdatedAt = "", 0, 0
		}
	}
	return u
}

func TestFirebase(t *testing.T) {
	fromJSON := importPreset(t, "firebase", fileSpec("firebase.json"), fbParams)
	fromCSV := importPreset(t, "firebase", fileSpec("firebase.csv"), fbParams)
	wantCreated(t, fromJSON, 4)
	wantCreated(t, fromCSV, 4)
	for key, u := range fromJSON.users {
		if a, b := jsonOf(t, comparable(u)), jsonOf(t, comparable(fromCSV.users[key])); a != b {
			t.Errorf("%s: JSON and CSV exports differ\njson %s\n csv %s", key, a, b)
		}
	}
	u1 := fromJSON.users["8fZ1xQm3TnYVb2rKc4dE6gH7jK90"]
	if !reflect.DeepEqual(emails(u1), []string{"user1@example.com"}) || str(u1.FirstName) != "Ada" || str(u1.LastName) != "King Lovelace" ||
		u1.PasswordHasher != "scrypt_firebase" || !u1.HasPasswordDigest || u1.CreatedAt != 1486324832000 || u1.Banned {
		t.Errorf("user1: %+v", u1)
	}
	if got := jsonOf(t, u1.PublicMetadata); got != `{"role":"admin","tier":2}` {
		t.Errorf("user1 custom claims: %s", got)
	}
	google := fromJSON.users["Gq2LwP8sVt4Xy6Zb1Nc3Md5Fh7Jk"]
	if google.HasPasswordDigest || google.PasswordHasher != "" || google.PrivateMetadata["firebase_photo_url"] != "https://lh3.googleusercontent.com/a/grace" {
		t.Errorf("google user: %+v", google)
	}
	phone := fromJSON.users["Ph0neOnly9Aa8Bb7Cc6Dd5Ee4Ff3"]
	if !reflect.DeepEqual(phones(phone), []string{"+14155550123"}) || len(phone.EmailAddresses) != 0 || phone.CreatedAt != 1650000000000 {
		t.Errorf("phone user: %+v", phone)
	}
	// emailVerified false (or absent): reserved; phone numbers have no flag.
	for _, r := range []*run{fromJSON, fromCSV} {
		wantStatuses(t, r, map[string]string{
			"8fZ1xQm3TnYVb2rKc4dE6gH7jK90": "user1@example.com:verified",
			"Gq2LwP8sVt4Xy6Zb1Nc3Md5Fh7Jk": "grace.hopper@gmail.com:verified",
			"Ph0neOnly9Aa8Bb7Cc6Dd5Ee4Ff3": "+14155550123:reserved",
			"Dis4bledUser1Qq2Ww3Ee4Rr5Tt6": "linus@example.org:reserved",
		})
	}
	disabled := fromJSON.users["Dis4bledUser1Qq2Ww3Ee4Rr5Tt6"]
	if !disabled.Banned || !disabled.HasPasswordDigest || str(disabled.FirstName) != "Linus" || disabled.LastName != nil {
		t.Errorf("disabled user: %+v", disabled)
	}
	// The digests the template built verify, from both formats: the README's
	// own example user, and one hashed here with the README's parameters.
	for _, file := range []string{"firebase.json", "firebase.csv"} {
		reqs := mapRecords(t, "firebase", fileSpec(file), fbParams)
		for key, pw := range map[string]string{"8fZ1xQm3TnYVb2rKc4dE6gH7jK90": "user1password", "Dis4bledUser1Qq2Ww3Ee4Rr5Tt6": "hunter2-firebase"} {
			d, _ := reqs[key].PasswordDigest.Get()
			if ok, err := hashers.Verify("scrypt_firebase", d, pw); !ok || err != nil {
				t.Errorf("%s %s: digest does not verify (%v)", file, key, err)
			}
			if ok, _ := hashers.Verify("scrypt_firebase", d, pw+"x"); ok {
				t.Errorf("%s %s: a wrong password verifies", file, key)
			}
		}
	}
}

// TestFirebaseParamsNeverWritten imports a Firebase export holding a broken
// hash and checks that no file the run wrote (the SQLite ledger and its
// WAL, every report) and no error holds the project's signer key or salt
// separator.
func TestFirebaseParamsNeverWritten(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samplesDir, "firebase.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"localId": "BrokenHash000", "email": "broken@example.com", "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i", "salt": "42xEC+ixf3L2lw==", "createdAt": "1486324832000"},` + "\n"
	export := bytes.Replace(data, []byte(`{"users": [`), []byte(`{"users": [`+bad), 1)
	path := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(path, export, 0o600); err != nil {
		t.Fatal(err)
	}
	r := importPreset(t, "firebase", sources.Spec{Location: path}, fbParams)
	if r.sum.ByOutcome[checkpoint.Created] != 4 || r.sum.ByOutcome[checkpoint.Invalid] != 1 {
		t.Fatalf("outcomes %+v", r.sum.ByOutcome)
	}
	var files int
	err = filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, secret := range []string{fbSignerKey, fbSignerKey[:24], fbSeparator} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a Firebase hash parameter", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("only %d files written under %s", files, r.dir)
	}
	// The broken row's error is in the reports, without the parameters.
	failures, _ := os.ReadFile(filepath.Join(r.dir, "reports", "failures.csv"))
	if !bytes.Contains(failures, []byte("BrokenHash000")) || !bytes.Contains(failures, []byte(mapping.CodeDigestInvalid)) {
		t.Errorf("failures.csv does not report the broken row:\n%s", failures)
	}
	// Errors: the row's FieldErrors, and a mapping missing parameters.
	p, _ := presets.Get("firebase")
	m, _ := p.Load()
	bound, _ := m.WithParams(fbParams)
	src, err := sources.Open(context.Background(), p.Spec(sources.Spec{Location: path}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rec, _ := src.Next(context.Background())
	_, errs := bound.Map(rec)
	_, unboundErrs := m.Map(rec)
	_, missing := m.WithParams(mapping.Params{"base64_signer_key": fbSignerKey})
	for _, e := range []error{errs, unboundErrs, missing} {
		if e == nil {
			t.Fatal("expected an error")
		}
		for _, secret := range []string{fbSignerKey, fbSeparator} {
			if strings.Contains(e.Error(), secret) {
				t.Errorf("error holds a parameter: %v", e)
			}
		}
	}
}

func TestSupabaseCSV(t *testing.T) {
	r := importPreset(t, "supabase", fileSpec("supabase.csv"), nil)
	wantCreated(t, r, 5)
	checkSupabase(t, r, false)
}

func TestSupabasePostgres(t *testing.T) {
	db := pgDatabase(t, "supabase.sql")
	r := importPreset(t, "supabase", sources.Spec{Location: db}, nil)
	wantCreated(t, r, 5) // the soft-deleted user is left out
	checkSupabase(t, r, true)
}

// checkSupabase checks the users of the Supabase sample, from a CSV or
// from Postgres (which also gives names out of the jsonb and TOTP factors).
func checkSupabase(t *testing.T, r *run, fromDB bool) {
	t.Helper()
	ada := r.users["76b196c8-d5c4-4907-9746-ed06ef829a67"]
	if !reflect.DeepEqual(emails(ada), []string{"ada@example.com"}) || ada.PasswordHasher != "bcrypt" || !ada.HasPasswordDigest ||
		ada.CreatedAt != ms(t, "2024-02-26T14:04:29.140Z") || ada.Banned {
		t.Errorf("ada: %+v", ada)
	}
	if got := jsonOf(t, ada.UnsafeMetadata); got != `{"full_name":"Ada Lovelace","plan":"pro"}` {
		t.Errorf("ada unsafe_metadata %s", got)
	}
	if got := jsonOf(t, ada.PublicMetadata); got != `{"provider":"email","providers":["email"]}` {
		t.Errorf("ada public_metadata %s", got)
	}
	if fromDB != (str(ada.FirstName) == "Ada" && str(ada.LastName) == "Lovelace") {
		t.Errorf("ada's names (from Postgres: %v): %q %q", fromDB, str(ada.FirstName), str(ada.LastName))
	}
	if ada.TOTPEnabled != fromDB {
		t.Errorf("ada totp_enabled = %v (from Postgres: %v)", ada.TOTPEnabled, fromDB)
	}
	grace := r.users["926f3b49-9687-4d05-8557-2673387a1f3c"]
	if grace.HasPasswordDigest || grace.PasswordHasher != "" {
		t.Errorf("grace (google, no password): %+v", grace)
	}
	phone := r.users["a1c2e3f4-0000-4b5c-8d9e-0123456789ab"]
	if !reflect.DeepEqual(phones(phone), []string{"+447400123456"}) || len(phone.EmailAddresses) != 0 {
		t.Errorf("phone user: %+v", phone)
	}
	linus := r.users["b7d8e9f0-1111-4c2d-9e3f-abcdefabcdef"]
	if !linus.Banned || !linus.HasPasswordDigest || linus.TOTPEnabled {
		t.Errorf("linus (banned until 2999, unverified factor): %+v", linus)
	}
	if old := r.users["c0ffee00-2222-4d3e-8f40-0a0b0c0d0e0f"]; old.Banned {
		t.Errorf("an expired ban made a banned user")
	}
	// email_confirmed_at / phone_confirmed_at: old.ban never confirmed.
	wantStatuses(t, r, map[string]string{
		"76b196c8-d5c4-4907-9746-ed06ef829a67": "ada@example.com:verified",
		"a1c2e3f4-0000-4b5c-8d9e-0123456789ab": "+447400123456:verified",
		"c0ffee00-2222-4d3e-8f40-0a0b0c0d0e0f": "old.ban@example.net:reserved",
	})
}

func TestBetterAuthPostgres(t *testing.T) {
	db := pgDatabase(t, "betterauth.sql")
	r := importPreset(t, "betterauth", sources.Spec{Location: db}, nil)
	wantCreated(t, r, 5)
	for key, want := range map[string]string{"Zq3kT9xY1bN4mR7s": "scrypt_werkzeug", "Lt4nS8aB2cD6eF0h": "scrypt_werkzeug",
		"Ed5gR7dJk2Lm9Np1": "bcrypt", "Hp6wL2vC8dF0gJ5k": "", "Bl8sK3vW6xY1zQ4r": ""} {
		if u := r.users[key]; u.PasswordHasher != want || u.HasPasswordDigest != (want != "") {
			t.Errorf("%s: hasher %q (digest %v), want %q", key, u.PasswordHasher, u.HasPasswordDigest, want)
		}
	}
	ada := r.users["Zq3kT9xY1bN4mR7s"]
	if str(ada.FirstName) != "Ada" || str(ada.LastName) != "Lovelace" || ada.CreatedAt != ms(t, "2024-04-01T09:00:00Z") ||
		jsonOf(t, ada.PrivateMetadata) != `{"better_auth_email_verified":true,"better_auth_providers":"credential"}` {
		t.Errorf("ada: %+v %s", ada, jsonOf(t, ada.PrivateMetadata))
	}
	grace := r.users["Hp6wL2vC8dF0gJ5k"]
	if _, marked := grace.PrivateMetadata["password_not_migrated"]; marked || grace.PrivateMetadata["better_auth_providers"] != "github" {
		t.Errorf("grace (github only): %s", jsonOf(t, grace.PrivateMetadata))
	}
	wantStatuses(t, r, map[string]string{"Zq3kT9xY1bN4mR7s": "ada@example.com:verified", "Lt4nS8aB2cD6eF0h": "linus@example.org:reserved"})
	linus := r.users["Lt4nS8aB2cD6eF0h"]
	if _, marked := linus.PrivateMetadata["password_not_migrated"]; marked || linus.PrivateMetadata["better_auth_providers"] != "credential,google" ||
		str(linus.FirstName) != "Linus" || linus.LastName != nil {
		t.Errorf("linus: %+v %s", linus, jsonOf(t, linus.PrivateMetadata))
	}
	if got := r.users["Bl8sK3vW6xY1zQ4r"].PrivateMetadata["password_not_migrated"]; got != "better_auth_unknown_hash" {
		t.Errorf("barbara's unknown hash: marked %v", got)
	}
	// The digests sent are the users' passwords, under Clerk's hashers.
	reqs := mapRecords(t, "betterauth", sources.Spec{Location: db}, nil)
	for key, pw := range map[string]string{"Zq3kT9xY1bN4mR7s": "better-ada-pw", "Lt4nS8aB2cD6eF0h": "better-linus-pw", "Ed5gR7dJk2Lm9Np1": "auth0-ada-pw"} {
		d, _ := reqs[key].PasswordDigest.Get()
		if !verifies(reqs[key].PasswordHasher, d, pw) || verifies(reqs[key].PasswordHasher, d, pw+"x") {
			t.Errorf("%s: the %s digest does not verify its password alone", key, reqs[key].PasswordHasher)
		}
	}
}

// TestBetterAuthScryptIsWerkzeugScrypt derives passwords the way Better
// Auth does (scrypt of the NFKC password, the 32 hex characters of a random
// salt as the salt, N=16384 r=16 p=1, a 64-byte key; stored
// "<salt>:<key>") and checks that the digest the preset's query builds from
// it verifies under Clerk's scrypt_werkzeug, as mapping/hashers computes
// it: Werkzeug takes the salt as text and a 64-byte key too. A password
// that NFKC changes is the one case that does not carry over: Better Auth
// hashed its normalised form, Clerk hashes what the user types.
//
// Each scrypt at these parameters is over a CPU second under -race, so the
// test computes none twice: a Unicode password that NFKC leaves alone (an
// ASCII one is no different), the ligature, and one wrong password.
func TestBetterAuthScryptIsWerkzeugScrypt(t *testing.T) {
	betterAuth := func(nfkc string, salt []byte) string {
		saltHex := hex.EncodeToString(salt)
		key, err := scrypt.Key([]byte(nfkc), []byte(saltHex), 16384, 16, 1, 64)
		if err != nil {
			t.Fatal(err)
		}
		return saltHex + ":" + hex.EncodeToString(key)
	}
	// What the query does: scrypt:16384:16:1$<salt>$<key>.
	werkzeug := func(stored string) string {
		salt, key, _ := strings.Cut(stored, ":")
		return "scrypt:16384:16:1$" + salt + "$" + key
	}
	for _, tc := range []struct {
		typed, nfkc string // what the user types, what Better Auth hashed
		verifies    bool
	}{
		{"pässwörd-Ünïcode", "pässwörd-Ünïcode", true}, // NFC text is its own NFKC
		{"ca\ufb01\u0301-ﬁne", "cafí-fine", false},     // a ligature: NFKC made it "fi"
	} {
		stored := betterAuth(tc.nfkc, []byte(tc.typed[:4]+"-salt-16b"))
		d := werkzeug(stored)
		if err := hashers.CheckDigest("scrypt_werkzeug", d); err != nil {
			t.Fatalf("%q: the digest is not a Werkzeug scrypt digest: %v", tc.typed, err)
		}
		if got := verifies("scrypt_werkzeug", d, tc.typed); got != tc.verifies {
			t.Errorf("%q: verifies = %v, want %v", tc.typed, got, tc.verifies)
		}
		if tc.typed != tc.nfkc && !verifies("scrypt_werkzeug", d, tc.nfkc) {
			t.Errorf("%q: the digest does not verify the password Better Auth hashed, %q", tc.typed, tc.nfkc)
		}
		if tc.verifies && verifies("scrypt_werkzeug", d, tc.nfkc+"!") {
			t.Errorf("%q: the digest verifies another password too", tc.typed)
		}
	}
}

// TestAuthJSPostgres imports the same users from the tables of each of
// Auth.js's Postgres adapters, the schema found by asking the database.
func TestAuthJSPostgres(t *testing.T) {
	for _, tc := range []struct {
		file              string
		ada, grace, linus string // their ids in that schema
	}{
		{"authjs.sql", "clx1a2b3c0000ada", "clx1a2b3c0001grc", "clx1a2b3c0002lin"},
		{"authjs-pg.sql", "1", "2", "3"},
		{"authjs-drizzle.sql", "6f1e2d3c-0000-4ada-8000-000000000001", "6f1e2d3c-0000-4ada-8000-000000000002", "6f1e2d3c-0000-4ada-8000-000000000003"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := importPreset(t, "authjs", sources.Spec{Location: pgDatabase(t, tc.file)}, nil)
			wantCreated(t, r, 3)
			ada := r.users[tc.ada]
			if str(ada.FirstName) != "Ada" || ada.PasswordEnabled || ada.PrivateMetadata["authjs_providers"] != "github,google" {
				t.Errorf("ada: %+v", ada)
			}
			grace := r.users[tc.grace]
			if !reflect.DeepEqual(emails(grace), []string{"grace.hopper@example.com"}) || grace.FirstName != nil || grace.PrivateMetadata["authjs_providers"] != nil {
				t.Errorf("grace (email link only): %+v", grace)
			}
			linus := r.users[tc.linus]
			if str(linus.FirstName) != "Linus" || str(linus.LastName) != "Benedict Torvalds" {
				t.Errorf("linus: %+v", linus)
			}
			// "emailVerified" NULL: linus never clicked an email link.
			wantStatuses(t, r, map[string]string{tc.ada: "ada@example.com:verified", tc.linus: "linus@example.org:reserved"})
		})
	}
}

// TestAuthJSVariantChoice: a database with the tables of two adapters (or
// of none, such as Better Auth's "user" and "account") is not guessed at:
// --preset-variant settles it, and an unknown variant is refused.
func TestAuthJSVariantChoice(t *testing.T) {
	p, _ := presets.Get("authjs")
	resolve := func(db, variant string) (string, error) {
		spec, got, err := p.Resolve(context.Background(), sources.Spec{Location: db}, variant)
		if err == nil && spec.Query == "" {
			t.Fatalf("variant %s chose no query", got)
		}
		return got, err
	}
	both := pgtest.Database(t, "cm_authjs_both", readSample(t, "authjs.sql")+readSample(t, "authjs-pg.sql"))
	if _, err := resolve(both, ""); !errors.Is(err, presets.ErrVariant) || !strings.Contains(err.Error(), "several schemas (prisma, pg)") {
		t.Errorf("two adapters' tables: %v", err)
	}
	if got, err := resolve(both, "pg"); err != nil || got != "pg" {
		t.Errorf("--preset-variant pg: %q %v", got, err)
	}
	r := importVariant(t, "authjs", "pg", sources.Spec{Location: both}, nil)
	if wantCreated(t, r, 3); r.users["1"].PrivateMetadata["authjs_providers"] != "github,google" {
		t.Errorf("the pg variant read another table: %v", r.users)
	}
	if _, err := resolve(both, "sequelize"); !errors.Is(err, presets.ErrVariant) || !strings.Contains(err.Error(), "prisma") {
		t.Errorf("unknown variant: %v", err)
	}
	if _, err := resolve(pgDatabase(t, "betterauth.sql"), ""); !errors.Is(err, presets.ErrVariant) || !strings.Contains(err.Error(), "none of the schemas") {
		t.Errorf("Better Auth's tables taken for Auth.js's: %v", err)
	}
	// A table or query of one's own is used as it is.
	if spec, got, err := p.Resolve(context.Background(), sources.Spec{Location: both, Table: "users"}, ""); err != nil || got != "" || spec.Query != "" {
		t.Errorf("--table: %q %q %v", spec.Query, got, err)
	}
}

func TestDjangoPostgres(t *testing.T) {
	db := pgDatabase(t, "django.sql")
	r := importPreset(t, "django", sources.Spec{Location: db}, nil)
	wantCreated(t, r, 5)
	for key, want := range map[string]string{"1": "pbkdf2_sha256_django", "2": "argon2id", "3": "bcrypt_sha256_django", "4": "", "5": ""} {
		u := r.users[key]
		if u.PasswordHasher != want || u.HasPasswordDigest != (want != "") {
			t.Errorf("user %s: hasher %q digest %v, want %q", key, u.PasswordHasher, u.HasPasswordDigest, want)
		}
	}
	ada := r.users["1"]
	if !reflect.DeepEqual(emails(ada), []string{"ada@example.com"}) || str(ada.FirstName) != "Ada" || ada.CreatedAt != ms(t, "2019-03-04T10:22:01.5Z") ||
		jsonOf(t, ada.PrivateMetadata) != `{"django_username":"ada","is_staff":true,"is_superuser":true}` {
		t.Errorf("ada: %+v %s", ada, jsonOf(t, ada.PrivateMetadata))
	}
	if got := r.users["2"].EmailAddresses[0].Value; got != "grace.hopper@example.com" {
		t.Errorf("grace's email %q", got)
	}
	if got := r.users["4"].PrivateMetadata["password_not_migrated"]; got != "django_md5" {
		t.Errorf("alan's md5 password: %v", got)
	}
	// auth_user has no verification flag: every address is reserved.
	for key, u := range r.users {
		if got := statuses(u); !strings.HasSuffix(got, ":reserved") || strings.Contains(got, ":verified") {
			t.Errorf("user %s: %s", key, got)
		}
	}
	edsger := r.users["5"]
	if !edsger.Banned || edsger.PrivateMetadata["password_not_migrated"] != nil {
		t.Errorf("edsger (inactive, unusable password): %+v", edsger)
	}
	// The digests as the query rewrote them are the users' passwords.
	reqs := mapRecords(t, "django", sources.Spec{Location: db}, nil)
	for key, pw := range map[string]string{"1": "django-ada-pw", "3": "django-linus-pw"} {
		d, _ := reqs[key].PasswordDigest.Get()
		if ok, err := hashers.Verify(reqs[key].PasswordHasher, d, pw); !ok || err != nil {
			t.Errorf("user %s: digest does not verify (%v)", key, err)
		}
	}
	if d, _ := reqs["2"].PasswordDigest.Get(); !strings.HasPrefix(d, "$argon2id$v=19$") || hashers.CheckDigest("argon2id", d) != nil {
		t.Errorf("grace's argon2 digest was not rewritten to PHC form")
	}
}

func TestClerkCSV(t *testing.T) {
	r := importPreset(t, "clerk", fileSpec("clerk.csv"), nil)
	wantCreated(t, r, 4)
	ada := r.users["user_2YDryYFVMM1W1plDDKz7Gzf4we6"]
	if !reflect.DeepEqual(emails(ada), []string{"ada@example.com", "ada@lovelace.family"}) || !reflect.DeepEqual(phones(ada), []string{"+14155550132"}) ||
		str(ada.Username) != "ada_l" || ada.PasswordHasher != "bcrypt" || !ada.HasPasswordDigest || !ada.TOTPEnabled {
		t.Errorf("ada: %+v", ada)
	}
	grace := r.users["user_2ZZCgLE7kJG2CRBxTZ6YUIvzS10"]
	if grace.HasPasswordDigest || grace.PasswordHasher != "" || str(grace.LastName) != "Hopper" {
		t.Errorf("grace (a hasher, no digest): %+v", grace)
	}
	linus := r.users["user_2cWszPHuo6P2lCdnhhZbVMfbAIC"]
	if !reflect.DeepEqual(emails(linus), []string{"linus@example.org", "linus@old.example.org"}) || str(linus.Username) != "linus" {
		t.Errorf("linus: %+v", linus)
	}
	phone := r.users["user_2cukOsyNsh0J3MCEvrgM6PkoB0I"]
	if !reflect.DeepEqual(phones(phone), []string{"+447400123456"}) || len(phone.EmailAddresses) != 0 {
		t.Errorf("phone-only user: %+v", phone)
	}
	wantStatuses(t, r, map[string]string{
		"user_2YDryYFVMM1W1plDDKz7Gzf4we6": "ada@example.com:verified ada@lovelace.family:verified +14155550132:verified",
		"user_2cWszPHuo6P2lCdnhhZbVMfbAIC": "linus@example.org:verified linus@old.example.org:reserved",
	})
	reqs := mapRecords(t, "clerk", fileSpec("clerk.csv"), nil)
	if d, _ := reqs["user_2YDryYFVMM1W1plDDKz7Gzf4we6"].PasswordDigest.Get(); !verifies("bcrypt", d, "clerk-one") {
		t.Error("ada's digest does not verify")
	}
}

func verifies(hasher, digest, pw string) bool {
	ok, err := hashers.Verify(hasher, digest, pw)
	return ok && err == nil
}

func TestWithCSVHeader(t *testing.T) {
	fb, _ := presets.Get("firebase")
	dir := t.TempDir()
	src := filepath.Join(samplesDir, "firebase.csv")
	path, cleanup, err := fb.WithCSVHeader(src, dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	orig, _ := os.ReadFile(src)
	header := strings.Join(fb.Source.CSVHeader, ",") + "\n"
	if string(b) != header+string(orig) {
		t.Fatal("the copy is not the header and the file")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("copy mode %v", info.Mode().Perm())
	}
	// A file that already has the header is used as it is.
	again, cleanup2, err := fb.WithCSVHeader(path, dir)
	if err != nil || again != path {
		t.Fatalf("header already there: %s %v", again, err)
	}
	cleanup2()
	cleanup()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("cleanup left the copy")
	}
	// Presets without a header hint use the file.
	cl, _ := presets.Get("clerk")
	if p, _, _ := cl.WithCSVHeader("x.csv", dir); p != "x.csv" {
		t.Error("clerk preset copied its file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left %d entries in the temp dir", len(entries))
	}
}

func TestSpecHints(t *testing.T) {
	sb, _ := presets.Get("supabase")
	s := sb.Spec(sources.Spec{Location: "postgres://db/x"})
	if s.Query == "" || s.KeyPath != "id" {
		t.Errorf("postgres spec: %+v", s)
	}
	if s := sb.Spec(sources.Spec{Location: "postgres://db/x", Table: "auth.users"}); s.Query != "" {
		t.Error("the preset's query replaced --table")
	}
	if s := sb.Spec(sources.Spec{Location: "users.csv"}); s.Query != "" {
		t.Error("a CSV got a query")
	}
	fb, _ := presets.Get("firebase")
	if s := fb.Spec(sources.Spec{Location: "users.json"}); s.ArrayPath != "users" || s.KeyPath != "localId" || !s.LazyQuotes {
		t.Errorf("firebase spec %+v", s)
	}
	if s := fb.Spec(sources.Spec{Location: "users.json", ArrayPath: "data"}); s.ArrayPath != "data" {
		t.Error("the preset's array path replaced --array-path")
	}
	if !slices.Contains(sb.Source.Kinds, "csv") {
		t.Error("supabase reads CSV too")
	}
}

// TestNoticesFollowTheSource: a preset says what applies to the source at
// hand: nothing about a CSV to a Postgres source, nothing about a column
// the export has, nothing about parameters (a run without them stops with
// the names to set; one with them needs no word).
func TestNoticesFollowTheSource(t *testing.T) {
	has := func(paths ...string) func(string) bool {
		return func(p string) bool { return slices.Contains(paths, p) }
	}
	notices := func(name, kind string, has func(string) bool) string {
		p, err := presets.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(p.NoticesFor(kind, has), "\n")
	}
	for _, tc := range []struct {
		name, kind string
		has        func(string) bool
		want, not  string
	}{
		{"supabase", "csv", has("id", "email"), "from a CSV", ""},
		{"supabase", "postgres", has("id", "email"), "", "from a CSV"},
		{"auth0", "jsonl", has("user_id", "email"), "no passwords", ""},
		{"auth0", "jsonl", has("user_id", "email", "passwordHash"), "no MFA secrets", "no passwords"},
		{"firebase", "json", has("localId", "email"), "no MFA factors", "phone numbers"},
		{"firebase", "csv", has("localId", "email", "phoneNumber"), "phone numbers: they are created reserved", "hash parameters"},
		{"betterauth", "postgres", nil, "scrypt_werkzeug", "not importable"},
		{"django", "postgres", nil, "records no email verification", ""},
	} {
		got := notices(tc.name, tc.kind, tc.has)
		if tc.want != "" && !strings.Contains(got, tc.want) || tc.not != "" && strings.Contains(got, tc.not) {
			t.Errorf("%s on %s: %q; want %q and not %q", tc.name, tc.kind, got, tc.want, tc.not)
		}
	}
}
