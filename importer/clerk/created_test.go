package clerk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// TestDecodeCreatedReadsWhatUnmarshalReads: on answers with nested
// objects and arrays, escapes in names and strings, braces and quotes
// inside strings, nulls and odd spacing, decodeCreated keeps exactly what
// encoding/json decodes into the same fields; broken answers are errors.
func TestDecodeCreatedReadsWhatUnmarshalReads(t *testing.T) {
	for _, body := range []string{
		`{"id":"user_1","object":"user","external_id":"legacy-1","created_at":1700000000000,"updated_at":1700000000001}`,
		`{"email_addresses":[{"id":"idn_1","verification":{"status":"verified","strategy":"admin"}}],` +
			`"public_metadata":{"a":{"b":[1,2,{"c":"}]\"{"}]}},"id":"user_2","external_id":null,` +
			`"first_name":"A \"quoted\" {name}","updated_at":5,"created_at":4,"object":"user"}`,
		" {\n\t\"\\u0069d\" : \"user_3\" ,\r\n \"external_id\":\"x\\\\y\\\"z\", \"banned\":false, \"n\":-1.5e3 } ",
		`{"id":"user_4","id":"user_5"}`,
		`{"id":"us\u00e9r","object":"us\\er","external_id":"Zoë","created_at":-12,"updated_at":0}`,
		`{}`,
	} {
		var got createdUser
		if err := decodeCreated([]byte(body), &got); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		var want createdUser
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	}
	for _, body := range []string{
		``, `[]`, `{"id":"user_1"`, `{"id":"user_1",}`, `{"id" "user_1"}`, `{"id":"user_1"} x`,
		`{"a":{"b":[1,2}`, `{"a":"unterminated}`, `{"id":1}`, `{"created_at":"soon"}`, `{"a":}`, `{"created_at":12x}`, `{"id":"a"b"}`,
		`{"created_at":1.5e3}`, `{"updated_at":123456789012345678901}`,
	} {
		var u createdUser
		if err := decodeCreated([]byte(body), &u); err == nil {
			t.Errorf("%q decoded as %+v, want an error", body, u)
		}
	}
}

// BenchmarkDecodeListed splits a page of 500 users as the emulator lists
// them (ListUsersLazy), against encoding/json decoding the same page
// (ListUsers).
func BenchmarkDecodeListed(b *testing.B) {
	var page []byte
	page = append(page, '[')
	for i := range 500 {
		if i > 0 {
			page = append(page, ',')
		}
		page = fmt.Appendf(page, `{"id":"user_%06d","object":"user","external_id":"b%d","primary_email_address_id":"idn_%06d",`+
			`"primary_phone_number_id":null,"primary_web3_wallet_id":null,"username":"user%d","first_name":"Ada","last_name":"Lovelace%d",`+
			`"locale":"en-US","has_image":false,"public_metadata":{"plan":"free","role":"member"},"private_metadata":{},"unsafe_metadata":{},`+
			`"email_addresses":[{"id":"idn_%06d","object":"email_address","email_address":"user%d@example.com","reserved":false,`+
			`"verification":{"object":"verification_admin","status":"verified","strategy":"admin"},"linked_to":[]}],`+
			`"phone_numbers":[],"web3_wallets":[],"passkeys":[],"external_accounts":[],"saml_accounts":[],"enterprise_accounts":[],`+
			`"password_enabled":true,"two_factor_enabled":false,"totp_enabled":false,"backup_code_enabled":false,"last_sign_in_at":null,`+
			`"banned":false,"locked":false,"lockout_expires_in_seconds":null,"verification_attempts_remaining":null,`+
			`"created_at":1577934245000,"updated_at":%d,"delete_self_enabled":true,"create_organization_enabled":true,"last_active_at":null}`,
			i, i, i, i, i, i, i, 1700000000000+i)
	}
	page = append(page, ']')
	b.Run("lazy", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			if us, err := decodeListed(page); err != nil || len(us) != 500 {
				b.Fatal(len(us), err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			var us []User
			if err := json.Unmarshal(page, &us); err != nil || len(us) != 500 {
				b.Fatal(len(us), err)
			}
		}
	})
}
