package mapping

import (
	"reflect"
	"testing"
)

// sampleBad are the sample rows built to fail, with exactly the codes Map
// must give them. 1038 shares 1005's email: Map cannot see another row, so
// it passes here and meets form_identifier_exists at Clerk.
var sampleBad = map[string][]string{
	"1036": {"password_digest:" + CodeDigestInvalid},
	"1037": {"password_hasher:" + CodeHasherUnknown},
	"1039": {"email_address:" + CodeMissing},
	// Its email_verified is empty as well: the row cannot say whether to
	// create the address verified.
	"1040": {"public_metadata:" + CodeJSONInvalid, "email_address:" + CodeVerifiedUnknown},
	"1041": {"totp_secret:" + CodeTOTPInvalid},
}

// sampleWant are full requests (secrets included) for a few sample users.
var sampleWant = map[string]string{
	"1001": `{"external_id":"1001","first_name":"Alice","last_name":"Walker","locale":"en-US",` +
		`"email_address":["alice.walker@example.com","alice@walker.family"],"phone_number":["+14155550132"],` +
		`"username":"alice_w","password_digest":"$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6",` +
		`"password_hasher":"bcrypt","skip_password_requirement":true,"totp_secret":"WTO7DYBT63FXLIR2LW7JKKHIPTWNVM2D",` +
		`"backup_codes":["5ef-6f0","765-5d2","a55-1a1","92f-946","2f0-432","417-e45","bc6-c31","5ff-2ea","ff3-f79","86a-802"],` +
		`"public_metadata":{"newsletter":true,"theme":"dark"},"private_metadata":{"legacy_role":"admin","plan":"pro"},` +
		`"created_at":"2019-03-04T10:22:01Z","banned":false}`,
	// argon2id; a TOTP secret written as shown to users (lower case, spaced); a zoned timestamp.
	"1003": `{"external_id":"1003","first_name":"Zoë","last_name":"Ångström","locale":"sv-SE",` +
		`"email_address":["zoe.angstrom@example.se"],"username":"zoe-a",` +
		`"password_digest":"$argon2id$v=19$m=19456,t=2,p=1$KxS8WuMqcPqxLNVcb8oX4Q$3UPn4C1xrLeInp6aWF3qzwlwkujywROwH6ee1Wnly34",` +
		`"password_hasher":"argon2id","skip_password_requirement":true,"totp_secret":"K52R4REKIII4VG4GY7242X25H5A75YD5",` +
		`"backup_codes":["ad6-e91","765-ffa","9b7-c97","8c4-206","432-e22","da7-be1","ecf-3b6","d89-689","4a8-107","e42-8eb"],` +
		`"private_metadata":{"legacy_role":"member","plan":"pro"},"created_at":"2020-07-15T06:30:00Z","banned":false}`,
	// secondary emails repeating the primary in other case; Unix seconds; es_ES; nested metadata.
	"1004": `{"external_id":"1004","first_name":"José","last_name":"Álvarez","locale":"es-ES",` +
		`"email_address":["jose.alvarez@example.es","jose@alvarez.example.es"],"phone_number":["+34912345678"],` +
		`"password_digest":"$2a$10$lgVxk0Fl0SaGII4ONwrfQ.WwzIw.bf9pB73mWYAhP/Ru79KEfYZTm","password_hasher":"bcrypt",` +
		`"skip_password_requirement":true,"public_metadata":{"beta":{"cohort":7,"enabled":true},"lang":"es"},` +
		`"private_metadata":{"legacy_role":"member","plan":"free"},"created_at":"2019-01-01T00:00:00Z","banned":false}`,
	// email_verified "0": the address is created reserved, not verified.
	"1021": `{"external_id":"1021","first_name":"Ethan","last_name":"Brown","locale":"en-US",` +
		`"email_address":["ethan.brown@example.com"],"email_address_identification_status":["reserved"],` +
		`"skip_password_requirement":true,"private_metadata":{"legacy_role":"member","plan":"free"},` +
		`"created_at":"2023-01-01T00:00:00Z","banned":true}`,
	// phone_verified empty, which the mapping's default reads as unverified:
	// the number is created reserved, the email verified.
	"1033": `{"external_id":"1033","first_name":"Samuel","last_name":"Okafor","locale":"en-NG",` +
		`"email_address":["samuel.okafor@example.ng"],"phone_number":["+2348021234567"],` +
		`"phone_number_identification_status":["reserved"],"skip_password_requirement":true,` +
		`"private_metadata":{"legacy_role":"member","plan":"free"},"created_at":"2023-06-15T13:45:00Z","banned":false}`,
	// no password, no phone, empty is_disabled and locale: left out / default.
	"1018": `{"external_id":"1018","first_name":"Sofía","last_name":"García","locale":"en-US",` +
		`"email_address":["sofia.garcia@example.mx"],"skip_password_requirement":true,` +
		`"private_metadata":{"legacy_role":"member","plan":"free"},"created_at":"2022-05-05T00:00:00Z"}`,
}

// sampleWarnings are the sample's valid rows with a warning: 1004 lists its
// primary address again among its secondary ones (sent once).
var sampleWarnings = map[string]string{"1004": CodeValueRepeated}

func TestMapSamples(t *testing.T) {
	m := loadSample(t)
	recs := sampleRecords(t, m)
	if len(recs) != 41 {
		t.Fatalf("%d sample rows, want 41", len(recs))
	}
	seen := map[string]bool{}
	for _, r := range recs {
		p, errs := m.Map(r)
		if want, bad := sampleBad[r.Key]; bad {
			if !reflect.DeepEqual(codes(errs), want) || p != nil {
				t.Errorf("row %s: codes %v, want %v\n%s", r.Key, codes(errs), want, joinErrs(errs))
			}
			for _, e := range errs {
				if e.Source == "" || e.Reason == "" {
					t.Errorf("row %s: error without source or reason: %+v", r.Key, e)
				}
			}
			seen[r.Key] = true
			continue
		}
		if w := sampleWarnings[r.Key]; w != "" && !(len(errs) == 1 && errs[0].Warning && errs[0].Code == w) {
			t.Errorf("row %s (%s): %v, want one %s warning", r.Key, r.Pos, errs, w)
		} else if w == "" && errs != nil {
			t.Errorf("row %s (%s): %v", r.Key, r.Pos, errs)
			continue
		}
		if want, ok := sampleWant[r.Key]; ok {
			seen[r.Key] = true
			if got := requestJSON(t, p); got != want {
				t.Errorf("row %s\n got %s\nwant %s", r.Key, got, want)
			}
		}
	}
	if len(seen) != len(sampleBad)+len(sampleWant) {
		t.Errorf("checked %d of the expected rows", len(seen))
	}
}

// TestSampleSharedEmail: the two accounts claiming one address both map
// cleanly, to the same lower-cased address, which Clerk will refuse once.
func TestSampleSharedEmail(t *testing.T) {
	m := loadSample(t)
	emails := map[string][]string{}
	for _, r := range sampleRecords(t, m) {
		if r.Key != "1005" && r.Key != "1038" {
			continue
		}
		p, errs := m.Map(r)
		if errs != nil {
			t.Fatalf("row %s: %v", r.Key, errs)
		}
		emails[r.Key] = p.EmailAddresses
	}
	if !reflect.DeepEqual(emails["1005"], emails["1038"]) || len(emails["1005"]) != 1 {
		t.Errorf("emails %v", emails)
	}
}

// TestMapConcurrent: one Mapping serves many workers and gives each the
// same answers as one worker does; each request owns its maps and slices,
// so changing one races with nothing (run with -race).
func TestMapConcurrent(t *testing.T) {
	m := loadSample(t)
	recs := sampleRecords(t, m)
	want := make([]string, len(recs))
	for i, r := range recs {
		p, errs := m.Map(r)
		want[i] = requestJSON(t, p) + joinErrs(errs)
	}
	done := make(chan string, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for i, r := range recs {
				p, errs := m.Map(r)
				if got := requestJSON(t, p) + joinErrs(errs); got != want[i] {
					done <- "row " + r.Key + " differs under concurrency"
					return
				}
				if p != nil {
					p.PrivateMetadata["touched"] = true
					p.EmailAddresses[0] = "changed@example.com"
				}
			}
			done <- ""
		}()
	}
	for w := 0; w < 4; w++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
