package clerk

import (
	"encoding/json"
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
