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
// hash (argon2id and Django users take seconds) and compares them with the
// committed file, so the file and its generator cannot drift apart.
func TestCommittedSampleIsTheGeneratorsOutput(t *testing.T) {
	rows := committedRows(t)
	if len(rows) != len(users) {
		t.Fatalf("%d committed rows, generator has %d users", len(rows), len(users))
	}
	checked := 0
	for _, u := range users {
		if u.hasher == "argon2id" || u.hasher == "pbkdf2_sha256_django" || u.backup == "bcrypt" || checked >= 6 {
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

// TestCanariesVerify checks every canary password against its user's digest
// in the committed CSV with the real algorithm.
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
	for sc.Scan() {
		email, password, ok := strings.Cut(sc.Text(), ":")
		row := byEmail[email]
		if !ok || row == nil {
			t.Fatalf("canary line %q names no sample user", sc.Text())
		}
		digest, hasher := row[slices.Index(header, "password_hash")], row[slices.Index(header, "hasher")]
		if err := verify(digest, strings.ToLower(hasher), password); err != "" {
			t.Errorf("%s (%s): %s", email, hasher, err)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d canaries", n)
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
