package main

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/csv"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
)

// committedRows reads ../legacy_users.csv by id.
func committedRows(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../legacy_users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], header) {
		t.Fatalf("header %v", rows[0])
	}
	byID := map[string][]string{}
	for _, r := range rows[1:] {
		byID[r[0]] = r
	}
	return byID
}

// TestCommittedSampleIsTheGeneratorsOutput regenerates the rows cheap to
// hash (argon2id and Django users take seconds), three of them, and
// compares them with the committed file, so the file and its generator
// cannot drift apart (each bcrypt row costs two hashings at cost 10: a
// second of CPU under -race).
func TestCommittedSampleIsTheGeneratorsOutput(t *testing.T) {
	rows := committedRows(t)
	if len(rows) != len(users) {
		t.Fatalf("%d committed rows, generator has %d users", len(rows), len(users))
	}
	checked := 0
	for _, u := range users {
		if u.hasher == "argon2id" || u.hasher == "pbkdf2_sha256_django" || u.backup == "bcrypt" || checked >= 3 {
			continue
		}
		got, err := u.row()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rows[u.id]) {
			t.Errorf("user %s\n got %q\nwant %q", u.id, got, rows[u.id])
		}
		checked++
	}
}

// TestCanariesVerify checks that every canary names a user of the committed
// CSV and, for the first canary of each hasher, that its password verifies
// against the user's digest with the real algorithm: the generator's
// digests of each kind are right. That every canary verifies, through the
// product's own hashers, is importer/validate's TestCanariesOnTheSample
// (under -race each check here cost half a CPU second).
func TestCanariesVerify(t *testing.T) {
	rows := committedRows(t)
	byEmail := map[string][]string{}
	for _, r := range rows {
		byEmail[r[1]] = r
	}
	f, err := os.Open("../canaries.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	verified := map[string]bool{} // hasher -> one of its canaries verified
	for sc.Scan() {
		email, password, ok := strings.Cut(sc.Text(), ":")
		row := byEmail[email]
		if !ok || row == nil {
			t.Fatalf("canary line %q names no sample user", sc.Text())
		}
		n++
		digest, hasher := row[slices.Index(header, "password_hash")], strings.ToLower(row[slices.Index(header, "hasher")])
		if verified[hasher] {
			continue
		}
		if err := verify(digest, hasher, password); err != "" {
			t.Errorf("%s (%s): %s", email, hasher, err)
		}
		verified[hasher] = true
	}
	if n < 20 || len(verified) < 3 {
		t.Errorf("only %d canaries, of %d hashers %v", n, len(verified), verified)
	}
}

// verify checks a password against a digest; "" when it matches.
func verify(digest, hasher, password string) string {
	switch hasher {
	case "bcrypt":
		if err := bcrypt.CompareHashAndPassword([]byte(digest), []byte(password)); err != nil {
			return err.Error()
		}
	case "argon2id":
		parts := strings.Split(digest, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, hash
		salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
		want, _ := base64.RawStdEncoding.DecodeString(parts[5])
		got := argon2.IDKey([]byte(password), salt, 2, 19456, 1, 32)
		if parts[3] != "m=19456,t=2,p=1" || subtle.ConstantTimeCompare(got, want) != 1 {
			return "argon2id mismatch"
		}
	case "pbkdf2_sha256_django":
		parts := strings.Split(digest, "$")
		iter, _ := strconv.Atoi(parts[1])
		got := base64.StdEncoding.EncodeToString(pbkdf2.Key([]byte(password), []byte(parts[2]), iter, 32, sha256.New))
		if got != parts[3] {
			return "pbkdf2 mismatch"
		}
	default:
		return "no verifier"
	}
	return ""
}
