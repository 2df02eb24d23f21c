// Command gen writes the sample legacy export samples/legacy_users.csv and
// samples/canaries.txt (email:password lines of the good users, for the
// canary sign-in check).
//
// The output is deterministic: every salt is derived from the user's id, so
// running it again rewrites the same bytes. Digests are real: bcrypt (cost
// 10, computed with a fixed salt on golang.org/x/crypto/blowfish exactly as
// golang.org/x/crypto/bcrypt does, then verified with bcrypt itself),
// argon2id PHC strings and Django pbkdf2_sha256 strings.
//
//	go run ./samples/gen -out samples
//
// With -rows N it writes instead a synthetic export of N rows (samples/synth:
// the rows of the validate benchmark), synth.csv and synth.mapping.yaml, for
// timing the CLI on a large file:
//
//	go run ./samples/gen -rows 1000000 -out /tmp/big
package main

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/blowfish"
	"golang.org/x/crypto/pbkdf2"

	"github.com/clerkmigrate/clerkmigrate/samples/synth"
)

// user is one legacy account. Password is the fake sample password; the
// export holds only its digest.
type user struct {
	id, email, secondary, first, last, username, phone string
	password, hasher                                   string
	totp                                               string // "b32", "b32-spaced", "hex", or ""
	backup                                             string // "plain", "bcrypt", or ""
	public, plan, role, created, disabled, locale      string
	// bad marks a row built to fail; the canary list leaves it out.
	bad string // "short-digest", "unknown-hasher", "shared-email", "no-email", "bad-json", "hex-totp"
	// noCanary leaves a good user out of the canary list: its email is also
	// claimed by a bad row, so which of the two Clerk keeps depends on order.
	noCanary bool
}

var users = []user{
	{id: "1001", email: "alice.walker@example.com", secondary: "alice@walker.family", first: "Alice", last: "Walker", username: "alice_w", phone: "(415) 555-0132", password: "correct-horse-17", hasher: "bcrypt", totp: "b32", backup: "plain", public: `{"theme":"dark","newsletter":true}`, plan: "pro", role: "admin", created: "2019-03-04 10:22:01", disabled: "0", locale: "en-US"},
	{id: "1002", email: "bob.martin@example.com", first: "Bob", last: "Martin", username: "bobm", phone: "+1 212 555 0187", password: "Tr0ub4dor&3", hasher: "bcrypt", public: `{"theme":"light"}`, plan: "free", role: "member", created: "2019-05-17 08:01:44", disabled: "0", locale: "en-US"},
	{id: "1003", email: "zoe.angstrom@example.se", first: "Zoë", last: "Ångström", username: "zoe-a", password: "sunflower!Meadow9", hasher: "argon2id", totp: "b32-spaced", backup: "plain", plan: "pro", role: "member", created: "2020-07-15T08:30:00+02:00", disabled: "false", locale: "sv-SE"},
	{id: "1004", email: "jose.alvarez@example.es", secondary: "JOSE@alvarez.example.es|jose.alvarez@example.es", first: "José", last: "Álvarez", phone: "+34 912 345 678", password: "pässwörd-Ünïcode", hasher: "bcrypt", public: `{"lang":"es","beta":{"enabled":true,"cohort":7}}`, plan: "free", role: "member", created: "1546300800", disabled: "0", locale: "es_ES"},
	{id: "1005", email: "soren.k@example.dk", first: "Søren", last: "Kierkegaard", username: "soren_k", password: "either/or-1843", hasher: "Bcrypt", plan: "enterprise", role: "owner", created: "1577836800000", disabled: "0", locale: "da-DK", noCanary: true},
	{id: "1006", email: "lukasz.zolc@example.pl", first: "Łukasz", last: "Żółć", username: "lzolc", phone: "+48 22 123 45 67", password: "gzegzolka-2020", hasher: "argon2id", plan: "pro", role: "member", created: "2021-01-05", disabled: "no", locale: "pl-PL"},
	{id: "1007", email: "taro.tanaka@example.jp", first: "太郎", last: "田中", username: "tanaka_taro", phone: "+81 3-1234-5678", password: "sakura-tokyo-88", hasher: "bcrypt", totp: "b32", plan: "pro", role: "member", created: "2020-02-29 23:59:59", disabled: "0", locale: "ja-JP"},
	{id: "1008", email: "olafur@example.is", first: "Ólafur", last: "Arnalds", created: "2020-03-01 12:00:00", plan: "free", role: "member", disabled: "0", locale: "is-IS"},
	{id: "1009", email: "chloe.dubois@example.fr", secondary: "chloe@dubois.example.fr", first: "Chloé", last: "Dubois", username: "chloe_d", phone: "+33 1 23 45 67 89", password: "croissant-matin-5", hasher: "pbkdf2_sha256_django", public: `{"theme":"dark"}`, plan: "pro", role: "member", created: "2018-11-11 11:11:11", disabled: "0", locale: "fr_FR"},
	{id: "1010", email: "mehmet.ozturk@example.com.tr", first: "Mehmet", last: "Öztürk", username: "mehmet_o", password: "bosphorus-bridge-4", hasher: "bcrypt", totp: "b32", backup: "bcrypt", plan: "enterprise", role: "admin", created: "2017-06-30T18:45:00Z", disabled: "0", locale: "tr-TR"},
	{id: "1011", email: "anna.karenina@example.ru", first: "Анна", last: "Каренина", password: "troika-winter-77", hasher: "argon2id", plan: "free", role: "member", created: "2019-12-24 17:00:00", disabled: "1", locale: "ru-RU"},
	{id: "1012", email: "m.alhashimi@example.ae", first: "محمد", last: "الهاشمي", phone: "+971 50 123 4567", password: "desert-rose-2019", hasher: "bcrypt", plan: "pro", role: "member", created: "2019-08-08 08:08:08", disabled: "0", locale: "ar-AE"},
	{id: "1013", email: "priya.sharma@example.in", first: "Priya", last: "Sharma", username: "priya_s", phone: "+91 98765 43210", password: "monsoon-chai-12", hasher: "bcrypt", public: `{"newsletter":false}`, plan: "free", role: "member", created: "2021-04-01 09:30:00", disabled: "0", locale: "en-IN"},
	{id: "1014", email: "liam.obrien@example.ie", first: "Liam", last: "O'Brien", username: "liam-ob", password: "cliffs-of-moher-3", hasher: "bcrypt", totp: "b32", backup: "plain", plan: "pro", role: "member", created: "2020-10-10 10:10:10", disabled: "0", locale: "en-IE"},
	{id: "1015", email: "noah.schmidt@example.de", first: "Noah", last: "Schmidt", phone: "+49 30 901820", password: "brezel-und-bier-9", hasher: "pbkdf2_sha256_django", plan: "free", role: "member", created: "2018-01-15 07:00:00", disabled: "0", locale: "de-DE"},
	{id: "1016", email: "emma.rossi@example.it", first: "Emma", last: "Rossi", username: "emma_rossi", password: "gelato-pistacchio-1", hasher: "bcrypt", plan: "pro", role: "member", created: "2019-09-09 09:09:09", disabled: "0", locale: "it-IT"},
	{id: "1017", email: "lucas.silva@example.com.br", first: "Lucas", last: "Silva", username: "lucas_silva", phone: "+55 11 91234-5678", password: "samba-carnaval-22", hasher: "argon2id", totp: "b32", plan: "free", role: "member", created: "2022-02-22 22:22:22", disabled: "0", locale: "pt-BR"},
	{id: "1018", email: "sofia.garcia@example.mx", first: "Sofía", last: "García", created: "2022-05-05", plan: "free", role: "member", disabled: "", locale: ""},
	{id: "1019", email: "oliver.smith@example.co.uk", first: "Oliver", last: "Smith", username: "oliver_s", phone: "+44 20 7946 0958", password: "fish-and-chips-6", hasher: "bcrypt", public: `{"theme":"light","newsletter":true}`, plan: "pro", role: "member", created: "2016-04-23 14:00:00", disabled: "0", locale: "en-GB"},
	{id: "1020", email: "ava.johnson@example.com", first: "Ava", last: "Johnson", username: "AvaJ", phone: "415.555.0199", password: "golden-gate-1937", hasher: "bcrypt", totp: "b32", backup: "plain", plan: "enterprise", role: "owner", created: "2015-08-01 00:00:00", disabled: "0", locale: "en-US"},
	{id: "1021", email: "ethan.brown@example.com", first: "Ethan", last: "Brown", created: "2023-01-01 00:00:00", plan: "free", role: "member", disabled: "true", locale: "en-US"},
	{id: "1022", email: "mia.nguyen@example.vn", first: "Mia", last: "Nguyễn", username: "mia_nguyen", password: "pho-bo-hanoi-11", hasher: "bcrypt", plan: "free", role: "member", created: "2021-07-07 07:07:07", disabled: "0", locale: "vi-VN"},
	{id: "1023", email: "kwame.mensah@example.gh", first: "Kwame", last: "Mensah", phone: "+233 24 123 4567", password: "accra-sunrise-8", hasher: "argon2id", plan: "pro", role: "member", created: "2020-12-12 12:12:12", disabled: "0", locale: "en-GH"},
	{id: "1024", email: "hannah.muller@example.at", first: "Hannah", last: "Müller", username: "hannah_m", password: "sachertorte-1832", hasher: "bcrypt", totp: "b32-spaced", plan: "pro", role: "member", created: "2019-02-14 20:00:00", disabled: "0", locale: "de-AT"},
	{id: "1025", email: "isaac.cohen@example.co.il", first: "Isaac", last: "Cohen", password: "jaffa-orange-48", hasher: "bcrypt", plan: "free", role: "member", created: "2018-06-06 06:06:06", disabled: "0", locale: "he-IL"},
	{id: "1026", email: "freya.larsen@example.no", first: "Freya", last: "Larsen", username: "freya_l", created: "2023-03-03 03:03:03", plan: "free", role: "member", disabled: "0", locale: "nb-NO"},
	{id: "1027", email: "leo.fischer@example.ch", first: "Léo", last: "Fischer", phone: "+41 44 668 18 00", password: "matterhorn-4478", hasher: "bcrypt", public: `{"theme":"dark","region":"eu"}`, plan: "enterprise", role: "admin", created: "2017-03-03 03:03:03", disabled: "0", locale: "fr-CH"},
	{id: "1028", email: "grace.lee@example.kr", first: "Grace", last: "Lee", username: "grace_lee", password: "kimchi-jjigae-5", hasher: "argon2id", totp: "b32", backup: "plain", plan: "pro", role: "member", created: "2022-09-09 09:09:09", disabled: "0", locale: "ko-KR"},
	{id: "1029", email: "jack.wilson@example.com.au", first: "Jack", last: "Wilson", phone: "+61 2 9374 4000", password: "kangaroo-hop-31", hasher: "bcrypt", plan: "free", role: "member", created: "2020-06-01 10:00:00", disabled: "0", locale: "en-AU"},
	{id: "1030", email: "ines.costa@example.pt", first: "Inês", last: "Costa", username: "ines_costa", password: "pastel-de-nata-2", hasher: "bcrypt", plan: "pro", role: "member", created: "2021-11-11 11:11:11", disabled: "0", locale: "pt-PT"},
	{id: "1031", email: "david.kim@example.com", first: "David", last: "Kim", username: "dkim", phone: "+1 (646) 555-0143", password: "hudson-yards-2019", hasher: "bcrypt", plan: "pro", role: "member", created: "1609459200", disabled: "0", locale: "en-US"},
	{id: "1032", email: "nora.virtanen@example.fi", first: "Nora", last: "Virtanen", password: "sauna-sisu-2024", hasher: "bcrypt", plan: "free", role: "member", created: "2024-01-10 16:20:00", disabled: "0", locale: "fi-FI"},
	{id: "1033", email: "samuel.okafor@example.ng", first: "Samuel", last: "Okafor", phone: "+234 802 123 4567", created: "2023-06-15 13:45:00", plan: "free", role: "member", disabled: "0", locale: "en-NG"},
	{id: "1034", email: "eva.novak@example.cz", first: "Eva", last: "Nováková", username: "eva_novak", password: "vltava-river-15", hasher: "bcrypt", totp: "b32", plan: "pro", role: "member", created: "2019-10-28 18:00:00", disabled: "0", locale: "cs-CZ"},
	{id: "1035", email: "daniel.jansen@example.nl", first: "Daniël", last: "Jansen", password: "tulip-bike-1637", hasher: "bcrypt", public: `{"newsletter":true}`, plan: "free", role: "member", created: "2020-04-27 12:00:00", disabled: "0", locale: "nl-NL"},
	// The rows below are the bad ones a migration meets.
	{id: "1036", email: "victor.hugo@example.fr", first: "Victor", last: "Hugo", password: "les-miserables-62", hasher: "bcrypt", plan: "free", role: "member", created: "2018-02-26 10:00:00", disabled: "0", locale: "fr-FR", bad: "short-digest"},
	{id: "1037", email: "ada.lovelace@example.co.uk", first: "Ada", last: "Lovelace", password: "analytical-engine", hasher: "sha1_legacy", plan: "pro", role: "member", created: "2015-12-10 09:00:00", disabled: "0", locale: "en-GB", bad: "unknown-hasher"},
	{id: "1038", email: "Soren.K@example.dk", first: "Søren", last: "Kierkegaard", username: "skierkegaard", password: "fear-and-trembling", hasher: "bcrypt", plan: "free", role: "member", created: "2021-05-05 05:05:05", disabled: "0", locale: "da-DK", bad: "shared-email"},
	{id: "1039", first: "Nameless", last: "Account", username: "ghost_user", password: "no-email-here-1", hasher: "bcrypt", plan: "free", role: "member", created: "2020-01-01 00:00:00", disabled: "0", locale: "en-US", bad: "no-email"},
	{id: "1040", email: "grace.hopper@example.com", first: "Grace", last: "Hopper", username: "ghopper", password: "cobol-compiler-59", hasher: "bcrypt", public: `{"theme": "dark", "navy": true`, plan: "pro", role: "admin", created: "2016-12-09 12:00:00", disabled: "0", locale: "en-US", bad: "bad-json"},
	{id: "1041", email: "alan.turing@example.co.uk", first: "Alan", last: "Turing", username: "aturing", password: "enigma-bombe-1939", hasher: "bcrypt", totp: "hex", plan: "pro", role: "member", created: "2017-06-23 08:00:00", disabled: "0", locale: "en-GB", bad: "hex-totp"},
}

var header = []string{"id", "email", "secondary_emails", "email_verified", "first_name", "last_name", "username",
	"phone", "phone_verified", "password_hash", "hasher", "totp_secret", "backup_codes", "public_metadata", "plan",
	"role", "created_at", "is_disabled", "locale"}

// emailVerified is the legacy system's email_verified flag of the users
// whose addresses it did not verify (every other user's is "true"), in the
// spellings real exports mix; 1040's is empty, so the row cannot say.
var emailVerified = map[string]string{"1008": "false", "1021": "0", "1026": "no", "1032": "false", "1040": ""}

// phoneVerified is the phone_verified flag of the users whose number was
// never confirmed by a code (every other number's is "true"); users without
// a phone have none.
var phoneVerified = map[string]string{"1020": "false", "1033": ""}

func main() {
	out := flag.String("out", "samples", "directory to write legacy_users.csv and canaries.txt into")
	rows := flag.Int("rows", 0, "write a synthetic export of this many rows (synth.csv, synth.mapping.yaml) instead")
	flag.Parse()
	write := func() error { return run(*out) }
	if *rows > 0 {
		write = func() error { return writeSynth(*out, *rows) }
	}
	if err := write(); err != nil {
		log.Fatal(err)
	}
}

// writeSynth writes the synthetic export and its mapping into dir.
func writeSynth(dir string, rows int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "synth.csv"))
	if err != nil {
		return err
	}
	if err := synth.WriteCSV(f, rows); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "synth.mapping.yaml"), []byte(synth.Mapping), 0o644)
}

func run(dir string) error {
	f, err := os.Create(filepath.Join(dir, "legacy_users.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		return err
	}
	var canaries strings.Builder
	for _, u := range users {
		row, err := u.row()
		if err != nil {
			return fmt.Errorf("user %s: %w", u.id, err)
		}
		if err := w.Write(row); err != nil {
			return err
		}
		if u.password != "" && u.bad == "" && !u.noCanary {
			fmt.Fprintf(&canaries, "%s:%s\n", u.email, u.password)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "canaries.txt"), []byte(canaries.String()), 0o644)
}

// row renders the user as a CSV row in header order.
func (u user) row() ([]string, error) {
	digest, err := u.digest()
	if err != nil {
		return nil, err
	}
	backup, err := u.backupCodes()
	if err != nil {
		return nil, err
	}
	return []string{u.id, u.email, u.secondary, u.emailVerified(), u.first, u.last, u.username,
		u.phone, u.phoneVerified(), digest, u.hasher, u.totpSecret(), backup, u.public, u.plan,
		u.role, u.created, u.disabled, u.locale}, nil
}

// emailVerified is the user's email_verified cell: empty without an email.
func (u user) emailVerified() string {
	if flag, ok := emailVerified[u.id]; ok || u.email == "" {
		return flag
	}
	return "true"
}

// phoneVerified is the user's phone_verified cell: empty without a phone.
func (u user) phoneVerified() string {
	if flag, ok := phoneVerified[u.id]; ok || u.phone == "" {
		return flag
	}
	return "true"
}

// salt derives a fixed salt of n bytes from the user id and a purpose.
func (u user) salt(purpose string, n int) []byte {
	sum := sha256.Sum256([]byte(purpose + ":" + u.id))
	return sum[:n]
}

// digest hashes the sample password with the user's hasher.
func (u user) digest() (string, error) {
	if u.password == "" {
		return "", nil
	}
	var d string
	switch strings.ToLower(u.hasher) {
	case "bcrypt":
		var err error
		if d, err = bcryptWithSalt([]byte(u.password), u.salt("bcrypt", 16), 10); err != nil {
			return "", err
		}
	case "argon2id":
		d = argon2idPHC(u.password, u.salt("argon2id", 16))
	case "pbkdf2_sha256_django":
		salt := hex.EncodeToString(u.salt("django", 11)) // Django salts are alphanumeric text
		const iter = 260000
		key := pbkdf2.Key([]byte(u.password), []byte(salt), iter, 32, sha256.New)
		d = fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iter, salt, base64.StdEncoding.EncodeToString(key))
	case "sha1_legacy": // not a hasher Clerk knows: the row is bad on purpose
		sum := sha256.Sum256([]byte(u.password))
		d = hex.EncodeToString(sum[:20])
	default:
		return "", fmt.Errorf("no generator for hasher %q", u.hasher)
	}
	if u.bad == "short-digest" {
		d = d[:40] // an export that cut the column short
	}
	return d, nil
}

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var bcryptB64 = base64.NewEncoding(bcryptAlphabet).WithPadding(base64.NoPadding)

// bcryptWithSalt is golang.org/x/crypto/bcrypt's algorithm with a given salt
// (bcrypt itself always draws a random one); the result is checked with
// bcrypt.CompareHashAndPassword.
func bcryptWithSalt(password, salt []byte, cost int) (string, error) {
	key := append(append([]byte{}, password...), 0) // C bcrypt hashes the trailing NUL
	c, err := blowfish.NewSaltedCipher(key, salt)
	if err != nil {
		return "", err
	}
	for i := uint64(0); i < 1<<cost; i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt, c)
	}
	data := []byte("OrpheanBeholderScryDoubt")
	for i := 0; i < 24; i += 8 {
		for j := 0; j < 64; j++ {
			c.Encrypt(data[i:i+8], data[i:i+8])
		}
	}
	d := fmt.Sprintf("$2a$%02d$%s%s", cost, bcryptB64.EncodeToString(salt), bcryptB64.EncodeToString(data[:23]))
	if err := bcrypt.CompareHashAndPassword([]byte(d), password); err != nil {
		return "", fmt.Errorf("bcrypt with a fixed salt does not verify: %w", err)
	}
	return d, nil
}

// argon2idPHC hashes with OWASP's argon2id parameters (19 MiB, 2 passes, 1
// lane) into a PHC string.
func argon2idPHC(password string, salt []byte) string {
	const m, t, p = 19456, 2, 1
	key := argon2.IDKey([]byte(password), salt, t, m, p, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// totpSecret renders the user's 20-byte TOTP key as authenticator apps and
// legacy systems store it.
func (u user) totpSecret() string {
	key := u.salt("totp", 20)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	switch u.totp {
	case "b32":
		return b32
	case "b32-spaced": // as shown to users: lower case, groups of four
		var parts []string
		for i := 0; i < len(b32); i += 4 {
			parts = append(parts, strings.ToLower(b32[i:min(i+4, len(b32))]))
		}
		return strings.Join(parts, " ")
	case "hex": // a legacy system that stored the raw key in hex
		return hex.EncodeToString(key)
	}
	return ""
}

// backupCodes renders ten backup codes as a JSON array in one cell, plain or
// as bcrypt digests (cost 10).
func (u user) backupCodes() (string, error) {
	if u.backup == "" {
		return "", nil
	}
	seed := u.salt("backup", 30)
	codes := make([]string, 10)
	for i := range codes {
		raw := hex.EncodeToString(seed[i*3 : i*3+3])
		code := raw[:3] + "-" + raw[3:]
		if u.backup == "bcrypt" {
			d, err := bcryptWithSalt([]byte(code), u.salt(fmt.Sprintf("backup-salt-%d", i), 16), 10)
			if err != nil {
				return "", err
			}
			code = d
		}
		codes[i] = code
	}
	b, err := json.Marshal(codes)
	return string(b), err
}
