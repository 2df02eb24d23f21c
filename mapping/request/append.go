package request

import (
	"encoding/json"
	"slices"
	"strconv"
)

// AppendJSON appends p as json.Marshal writes it, byte for byte, without
// reflection: the client encodes every create this way, and the import
// hashes its redacted copy the same way (encoding/json was a tenth of the
// import's CPU a row). TestAppendJSONIsMarshal holds it to json.Marshal.
func (p *CreateUser) AppendJSON(b []byte) ([]byte, error) {
	w := objectWriter{b: append(b, '{')}
	str(&w, "external_id", p.ExternalID)
	str(&w, "first_name", p.FirstName)
	str(&w, "last_name", p.LastName)
	str(&w, "locale", p.Locale)
	w.strings("email_address", p.EmailAddresses)
	w.strings("email_address_identification_status", p.EmailAddressIdentificationStatus)
	w.strings("phone_number", p.PhoneNumbers)
	w.strings("phone_number_identification_status", p.PhoneNumberIdentificationStatus)
	w.strings("web3_wallet", p.Web3Wallets)
	str(&w, "username", p.Username)
	str(&w, "password", p.Password)
	str(&w, "password_digest", p.PasswordDigest)
	if p.PasswordHasher != "" {
		w.key("password_hasher")
		w.b = appendString(w.b, p.PasswordHasher)
	}
	boolean(&w, "skip_password_checks", p.SkipPasswordChecks)
	boolean(&w, "skip_password_requirement", p.SkipPasswordRequirement)
	str(&w, "totp_secret", p.TOTPSecret)
	w.strings("backup_codes", p.BackupCodes)
	w.object("public_metadata", p.PublicMetadata)
	w.object("private_metadata", p.PrivateMetadata)
	w.object("unsafe_metadata", p.UnsafeMetadata)
	boolean(&w, "delete_self_enabled", p.DeleteSelfEnabled)
	str(&w, "legal_accepted_at", p.LegalAcceptedAt)
	boolean(&w, "skip_legal_checks", p.SkipLegalChecks)
	boolean(&w, "skip_user_requirement", p.SkipUserRequirement)
	boolean(&w, "create_organization_enabled", p.CreateOrganizationEnabled)
	if f := p.CreateOrganizationsLimit; f.set {
		w.key("create_organizations_limit")
		if f.null {
			w.b = append(w.b, "null"...)
		} else {
			w.b = strconv.AppendInt(w.b, int64(f.v), 10)
		}
	}
	str(&w, "created_at", p.CreatedAt)
	boolean(&w, "bypass_client_trust", p.BypassClientTrust)
	boolean(&w, "banned", p.Banned)
	boolean(&w, "locked", p.Locked)
	if w.err != nil {
		return b, w.err
	}
	return append(w.b, '}'), nil
}

// objectWriter writes a JSON object's members; the first failure stays.
type objectWriter struct {
	b     []byte
	comma bool
	err   error
}

func (w *objectWriter) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
	w.b = append(append(append(w.b, '"'), k...), `":`...)
}

func str(w *objectWriter, k string, f Field[string]) {
	if !f.set {
		return
	}
	w.key(k)
	if f.null {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = appendString(w.b, f.v)
}

func boolean(w *objectWriter, k string, f Field[bool]) {
	if !f.set {
		return
	}
	w.key(k)
	if f.null {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = strconv.AppendBool(w.b, f.v)
}

// strings writes a list (omitempty: none when it is empty).
func (w *objectWriter) strings(k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, v)
	}
	w.b = append(w.b, ']')
}

// object writes a metadata object (omitempty): by hand when its keys and
// values are plain strings, else through encoding/json.
func (w *objectWriter) object(k string, m map[string]any) {
	if len(m) == 0 {
		return
	}
	w.key(k)
	keys := make([]string, 0, len(m))
	plain := true
	for k, v := range m {
		keys = append(keys, k)
		if s, ok := v.(string); !ok || !isPlain(k) || !isPlain(s) {
			plain = false
		}
	}
	if !plain {
		js, err := json.Marshal(m)
		if err != nil && w.err == nil {
			w.err = err
		}
		w.b = append(w.b, js...)
		return
	}
	slices.Sort(keys)
	w.b = append(w.b, '{')
	for i, k := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(append(append(append(append(w.b, '"'), k...), `":"`...), m[k].(string)...), '"')
	}
	w.b = append(w.b, '}')
}

// appendString appends s as encoding/json writes a string.
func appendString(b []byte, s string) []byte {
	if isPlain(s) {
		return append(append(append(b, '"'), s...), '"')
	}
	js, _ := json.Marshal(s) // a string always encodes
	return append(b, js...)
}

// isPlain reports whether s needs no escape (see plainString).
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
