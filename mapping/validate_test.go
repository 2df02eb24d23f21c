package mapping

import (
	"encoding/base32"
	"strings"
	"testing"
)

// checkCase is one input of a single-value check: want is the normalised
// value, or "" when the check must refuse it with code.
type checkCase struct {
	in, want string
}

func runChecks(t *testing.T, name string, check func(string, *Options) (string, *problem), opts *Options, code string, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		got, pr := check(c.in, opts)
		if c.want == "" {
			if pr == nil || pr.code != code {
				t.Errorf("%s(%q) = %q, %v; want %s", name, c.in, got, pr, code)
			}
			continue
		}
		if pr != nil || got != c.want {
			t.Errorf("%s(%q) = %q, %v; want %q", name, c.in, got, pr, c.want)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	runChecks(t, "checkEmail", checkEmail, nil, CodeEmailInvalid, []checkCase{
		{"alice@example.com", "alice@example.com"},
		{"Alice.Walker@Example.COM", "Alice.Walker@Example.COM"}, // sent in its case: Clerk compares in any case
		{"bob+tag@mail.example.co.uk", "bob+tag@mail.example.co.uk"},
		{" bob+tag@mail.example.co.uk ", ""}, // the mapping drops white space first, with a warning
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"x@xn--bcher-kva.example", "x@xn--bcher-kva.example"},
		{"plainaddress", ""},
		{"@example.com", ""},
		{"alice@", ""},
		{"alice@localhost", ""},
		{"alice@@example.com", ""},
		{"al ice@example.com", ""},
		{".alice@example.com", ""},
		{"alice.@example.com", ""},
		{"al..ice@example.com", ""},
		{"Alice <alice@example.com>", ""},
		{`"quoted"@example.com`, ""},
		{"alice@-example.com", ""},
		{"alice@example..com", ""},
		{"alice@example.123", ""},
		{"alice@bücher.example", ""},
		{strings.Repeat("a", 65) + "@example.com", ""},
		{"a@" + strings.Repeat("b", 64) + ".com", ""},
	})
}

func TestCheckPhone(t *testing.T) {
	us := &Options{DefaultPhoneRegion: "US"}
	runChecks(t, "checkPhone", checkPhone, us, CodePhoneInvalid, []checkCase{
		{"(415) 555-0132", "+14155550132"},
		{"415.555.0199", "+14155550199"},
		{"+44 20 7946 0958", "+442079460958"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+49 30 901820", "+4930901820"},
		{"555-0132", ""},
		{"not a phone", ""},
		{"+1 415 555 01", ""},
		{"+999 1234", ""},
	})
	runChecks(t, "checkPhone(no region)", checkPhone, &Options{}, CodePhoneInvalid, []checkCase{
		{"+1 415 555 0132", "+14155550132"},
		{"(415) 555-0132", ""},
	})
	runChecks(t, "checkPhone(GB)", checkPhone, &Options{DefaultPhoneRegion: "GB"}, CodePhoneInvalid, []checkCase{
		{"020 7946 0958", "+442079460958"},
	})
}

func TestCheckUsername(t *testing.T) {
	runChecks(t, "checkUsername", checkUsername, nil, CodeUsernameInvalid, []checkCase{
		{"alice_w", "alice_w"},
		{"zoe-a", "zoe-a"},
		{"Abc1", "Abc1"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"abc", ""},
		{strings.Repeat("a", 65), ""},
		{"zoë_a", "zoë_a"}, // Latin-based (Clerk's docs); alice.w and alice@w are warnings: TestUsernamesAsClerkDocumentsThem
		{"alice w", ""},
		{"иван", ""},
		{"123456", ""},
	})
}

func TestCheckLocale(t *testing.T) {
	runChecks(t, "checkLocale", checkLocale, nil, CodeLocaleInvalid, []checkCase{
		{"en", "en"}, {"en-US", "en-US"}, {"fr_FR", "fr-FR"}, {"zh-Hant-TW", "zh-Hant-TW"}, {"es-419", "es-419"},
		{"english", ""}, {"e", ""}, {"en--US", ""}, {"12-US", ""}, {"en-US!", ""},
	})
}

func TestCheckWeb3Wallet(t *testing.T) {
	runChecks(t, "checkWeb3Wallet", checkWeb3Wallet, nil, CodeWeb3WalletInvalid, []checkCase{
		{"0x52908400098527886E0F7030069857D2E4169EE7", "0x52908400098527886E0F7030069857D2E4169EE7"},
		{"0X52908400098527886e0f7030069857d2e4169ee7", "0x52908400098527886e0f7030069857d2e4169ee7"},
		{"7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV"},
		{"0x5290840009852788", ""}, {"0xZZ908400098527886E0F7030069857D2E4169EE7", ""}, {"wallet", ""},
	})
}

func TestCheckStatus(t *testing.T) {
	runChecks(t, "checkStatus", checkStatus, nil, CodeStatusInvalid, []checkCase{
		{"verified", "verified"}, {" Reserved ", "reserved"}, {"unverified", ""}, {"", ""},
	})
}

func TestCheckTOTPSecret(t *testing.T) {
	key := []byte("0123456789abcdefghij") // 20 bytes
	b32 := base32.StdEncoding.EncodeToString(key)
	spaced := strings.ToLower(b32[:4] + " " + b32[4:8] + " " + b32[8:])
	runChecks(t, "checkTOTPSecret", checkTOTPSecret, nil, CodeTOTPInvalid, []checkCase{
		{b32, b32},
		{spaced, b32},
		{"JBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"},
		{"jbsw-y3dp-ehpk-3pxp", "JBSWY3DPEHPK3PXP"},
		{"JBSWY3DPEHPK3PXPJB======", "JBSWY3DPEHPK3PXPJB"},
		{"3132333435363738393031323334353637383930", ""}, // hex
		{"JBSWY3DPEHPK3PX1", ""},                         // 1 is not base32
		{"JBSWY3DP", ""},                                 // too short
		{strings.Repeat("A", 136), ""},                   // too long
		{"JBSWY3DPEHPK3PXPJ", ""},                        // 17: no byte string has it
		{"  ", ""},
	})
	_, pr := checkTOTPSecret("3132333435363738393031323334353637383930", nil)
	if !strings.Contains(pr.reason, "hex") {
		t.Errorf("a hex secret's reason should say hex: %q", pr.reason)
	}
}

func TestCheckBackupCode(t *testing.T) {
	bcrypt := "$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6"
	runChecks(t, "checkBackupCode", checkBackupCode, nil, CodeBackupCodeInvalid, []checkCase{
		{"5ef-6f0", "5ef-6f0"},
		{"ABCD1234", "ABCD1234"},
		{bcrypt, bcrypt},
		{bcrypt[:50], ""},
		{"$2x$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6", ""},
		{"", ""},
		{"abc", ""},
		{"ab cd", ""},
		{"códe1", ""},
		{strings.Repeat("a", 65), ""},
	})
	if pr := checkBackupCodeCount(50); pr != nil {
		t.Errorf("50 codes refused: %v", pr)
	}
	if pr := checkBackupCodeCount(51); pr == nil || pr.code != CodeBackupCodesCount {
		t.Errorf("51 codes: %v; want backup_codes_count", pr)
	}
}

func TestCheckMetadataSize(t *testing.T) {
	small := map[string]any{"a": "b"}
	if pr := checkMetadataSize(small, `{"a":"b"}`); pr != nil {
		t.Errorf("small: %v", pr)
	}
	big := map[string]any{"a": strings.Repeat("x", 8200)}
	if pr := checkMetadataSize(big, ""); pr == nil || pr.code != CodeMetadataTooLarge {
		t.Errorf("8 KB+ typed map: %v", pr)
	}
	// The size is of the data: json.Marshal's HTML escapes (\u003c) do not count.
	html := map[string]any{"a": strings.Repeat("<", 1500)}
	if pr := checkMetadataSize(html, ""); pr != nil {
		t.Errorf("1.5 KB of < refused: %v", pr)
	}
	// Short text that grows past 8 KB when re-encoded: control characters.
	ctl := strings.Repeat("\x01", 1400)
	if pr := checkMetadataSize(map[string]any{"a": ctl}, `{"a":"`+ctl+`"}`); pr == nil || pr.code != CodeMetadataTooLarge {
		t.Errorf("1400 control characters are 8.4 KB as JSON: %v", pr)
	}
	edge := map[string]any{"a": strings.Repeat("x", metadataMaxBytes-8)} // {"a":"..."} is exactly 8192
	if pr := checkMetadataSize(edge, ""); pr != nil {
		t.Errorf("exactly 8192 bytes refused: %v", pr)
	}
	edge["a"] = strings.Repeat("x", metadataMaxBytes-7)
	if pr := checkMetadataSize(edge, ""); pr == nil {
		t.Error("8193 bytes accepted")
	}
}
