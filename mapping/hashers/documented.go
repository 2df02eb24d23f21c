package hashers

// Clerk's documented digest formats, as Clerk's docs state them (the
// CreateUserParams reference of clerk.com/docs, the PasswordHasher schema of
// the spec, CLERK_API.md), which are looser than the grammar CheckDigest
// enforces (what the software that writes each format writes, strict enough
// that a digest cut short fails). Where a field belongs to a standard scheme
// that Clerk names and links (bcrypt's cost, phpass's rounds, the PHC argon2
// string), the scheme's own definition reads it.
//
// Judge combines the two: a digest that fits the strict grammar is OK; one
// that fits only Clerk's documented format is a Warning, since Clerk may
// accept it (a digest Clerk accepts must never be refused); one that fits
// neither is Refused. A few hashers are documented so loosely, or so
// differently from the software that writes them, that even a digest fitting
// the strict grammar is a Warning (openAlways).

// Verdict is what Judge says of a digest.
type Verdict int

// The verdicts.
const (
	Refused Verdict = iota // fits neither the grammar nor Clerk's documented format
	OK                     // fits the grammar (and so Clerk's documented format)
	Warning                // fits Clerk's documented format only, or a format Clerk leaves open
)

func (v Verdict) String() string {
	return [...]string{"refused", "ok", "warning"}[v]
}

// openAlways names the hashers whose every digest is a warning, and why.
var openAlways = map[string]string{
	"scrypt_werkzeug": "Clerk's docs write scrypt_werkzeug digests as $<algorithm args>$<salt>$<hash> with a Base64 hash, " +
		"while Werkzeug writes scrypt:<n>:<r>:<p>$<salt>$<hash hex> without the leading $: which one Clerk reads is not documented",
	"hmac_sha256_utf16_b64": "Clerk documents no digest layout for hmac_sha256_utf16_b64, only its name; " +
		"this tool expects <key base64>$<hash base64>",
}

// documentedOpen is the reason a digest that fits Clerk's documented
// format, but not the strict grammar, is sent with a warning.
const documentedOpen = "it fits the format Clerk documents, so Clerk may accept it and the row is sent as it is: " +
	"check that a user imported this way can sign in"

// Judge says whether Clerk takes digest for hasher name, as Clerk documents
// it (see the verdicts). For Warning and Refused the *DigestError says why
// (for a Warning, Open says why Clerk's documentation leaves it open); it
// never holds the digest.
func Judge(name, digest string) (Verdict, *DigestError) {
	h, ok := byName[name]
	if !ok {
		return Refused, unknownHasherError(name)
	}
	if digest == "" {
		return Refused, &DigestError{Hasher: name, Reason: rEmpty}
	}
	reason := h.check(digest)
	switch {
	case reason == "" && openAlways[name] != "":
		return Warning, &DigestError{Hasher: name, Open: openAlways[name] + "; the row is sent as it is: check that a user imported this way can sign in"}
	case reason == "":
		return OK, nil
	case documentedForms[name](digest):
		why := documentedOpen
		if openAlways[name] != "" {
			why = openAlways[name] + "; " + why
		}
		return Warning, &DigestError{Hasher: name, Reason: reason, Hint: hintFor(name, digest), Open: why}
	}
	return Refused, &DigestError{Hasher: name, Reason: reason, Hint: hintFor(name, digest)}
}

// documentedForms holds, per hasher, whether a digest fits the format
// Clerk documents.
var documentedForms = map[string]func(string) bool{
	// "$<algorithm version>$<cost>$<salt & hash>": bcrypt's own string.
	"bcrypt": func(d string) bool { return checkBcrypt(d) == "" },
	// "bcrypt_sha256$$<algorithm version>$<cost>$<salt & hash>".
	"bcrypt_sha256_django": func(d string) bool { return checkBcryptSHA256Django(d) == "" },
	// "$<algorithm version>$<cost>$<salt & hash>$<pepper>": any pepper.
	"bcrypt_peppered": func(d string) bool { return len(d) > 61 && checkBcrypt(d[:60]) == "" && d[60] == '$' },
	// "5f4dcc3b5aa765d61d8327deb882cf99"; "a 64-length hex string".
	"md5":    func(d string) bool { return isHexLen(d, 32) },
	"sha256": func(d string) bool { return isHexLen(d, 64) },
	// "salt$hash", the hash "a 32-length hex string" (64 for sha256).
	"md5_salted":    func(d string) bool { return docSalted(d, 32) },
	"sha256_salted": func(d string) bool { return docSalted(d, 64) },
	// "pbkdf2_sha1$<iterations>$<salt>$<hash-as-hex-string>" or
	// "…$<salt-as-hex-string>$<hash-as-hex-string>$<key-length>"; "If the
	// salt is not a valid hex string, the raw bytes will be used instead".
	"pbkdf2_sha1": func(d string) bool {
		p, ok := docParts(d, "pbkdf2_sha1")
		switch {
		case !ok || !docPositive(p[0]) || p[1] == "" || !isHex(p[2]):
			return false
		case len(p) == 3:
			return true
		}
		return len(p) == 4 && docPositive(p[3])
	},
	// "pbkdf2_sha256$<iterations>$<salt>$<hash>": "Both the salt and the
	// hash are expected to be base64-encoded" (padded or not: not said).
	"pbkdf2_sha256": func(d string) bool {
		p, ok := docParts(d, "pbkdf2_sha256")
		return ok && len(p) == 3 && docPositive(p[0]) && docB64(p[1]) && docB64(p[2])
	},
	// The same string from Django: "The salt is expected to be un-encoded,
	// the hash is expected base64-encoded".
	"pbkdf2_sha256_django": func(d string) bool {
		p, ok := docParts(d, "pbkdf2_sha256")
		return ok && len(p) == 3 && docPositive(p[0]) && p[1] != "" && stdB64Len(p[2]) > 0
	},
	// "The salt is expected to be an unencoded string literal, and the
	// hash should be hex-encoded."
	"pbkdf2_sha512": func(d string) bool {
		p, ok := docParts(d, "pbkdf2_sha512")
		return ok && len(p) == 3 && docPositive(p[0]) && p[1] != "" && isHex(p[2])
	},
	// "Both the salt and the hash are expected to be hex-encoded."
	"pbkdf2_sha512_hex": func(d string) bool {
		p, ok := docParts(d, "pbkdf2_sha512_hex")
		return ok && len(p) == 3 && docPositive(p[0]) && isHex(p[1]) && isHex(p[2])
	},
	// "$P$<rounds><salt><encoded-checksum>", 1 + 8 + 22 characters of
	// [./0-9A-Za-z]; phpass (openwall, which Clerk links) reads $H$ alike.
	// md5_phpass: "phpass with the $H$ prefix" (CLERK_API.md).
	"phpass":     func(d string) bool { return checkPhpass(d) == "" || checkMD5Phpass(d) == "" },
	"md5_phpass": func(d string) bool { return checkPhpass(d) == "" || checkMD5Phpass(d) == "" },
	// "<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>",
	// the first four base64, the last two numbers.
	"scrypt_firebase": func(d string) bool {
		p, ok := firebaseParts(d)
		return ok && stdB64Len(p[0]) > 0 && stdB64Len(p[1]) > 0 && stdB64Len(p[2]) > 0 && stdB64Len(p[3]) > 0 &&
			docPositive(p[4]) && docPositive(p[5])
	},
	// "$<algorithm args>$<salt>$<hash>", as Werkzeug writes it or with the
	// leading $ of Clerk's docs; scrypt's n is a power of two.
	"scrypt_werkzeug": func(d string) bool {
		if hasPrefix(d, "$scrypt:") {
			d = d[1:]
		}
		method, rest, ok := cut(d, '$')
		salt, hash, ok2 := cut(rest, '$')
		n, r, p, ok3 := werkzeugParams(method)
		return ok && ok2 && ok3 && salt != "" && hash != "" && count(hash, '$') == 0 && allOf(trimPad(hash), clsB64) &&
			n > 1 && n&(n-1) == 0 && r > 0 && p > 0
	},
	// "$argon2i$v=19$m=4096,t=3,p=1$<salt>$<digest>" (the parts are
	// described without the version): RFC 9106 bounds p ≥ 1, t ≥ 1, m ≥ 8p.
	"argon2i":  func(d string) bool { return docArgon2(d, "$argon2i$") },
	"argon2id": func(d string) bool { return docArgon2(d, "$argon2id$") },
	// "sha512_symfony$iterations$salt$hash": iterations above 0, the hash
	// base64; Symfony refuses a salt with { or }.
	"sha512_symfony": func(d string) bool {
		p, ok := docParts(d, "sha512_symfony")
		return ok && len(p) == 3 && docPositive(p[0]) && count(p[1], '{')+count(p[1], '}') == 0 && stdB64Len(p[2]) > 0
	},
	// "{SSHA}" + base64 of the SHA-1 digest and a salt (CLERK_API.md).
	"ldap_ssha": func(d string) bool { return hasPrefix(d, "{SSHA}") && stdB64Len(d[len("{SSHA}"):]) > 20 },
	// "awscognito#<userpoolid>#<clientid>#<identifier>".
	"awscognito": func(d string) bool {
		if !hasPrefix(d, "awscognito#") {
			return false
		}
		pool, rest, ok := cut(d[len("awscognito#"):], '#')
		client, ident, ok2 := cut(rest, '#')
		return ok && ok2 && pool != "" && client != "" && ident != ""
	},
	// No layout documented.
	"hmac_sha256_utf16_b64": func(d string) bool { return d != "" },
}

// docParts splits "<prefix>$a$b…" into its $-separated parts after the
// prefix.
func docParts(d, prefix string) ([]string, bool) {
	if !hasPrefix(d, prefix+"$") {
		return nil, false
	}
	var parts []string
	rest := d[len(prefix)+1:]
	for {
		part, after, more := cut(rest, '$')
		parts = append(parts, part)
		if !more {
			return parts, len(parts) >= 3
		}
		rest = after
	}
}

// docPositive reports whether s is a whole number of 1 or more (leading
// zeros allowed: Clerk's docs say only "iterations", "a number").
func docPositive(s string) bool {
	nonZero := false
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		nonZero = nonZero || s[i] != '0'
	}
	return nonZero
}

// docB64 reports whether s is non-empty standard base64, padded or not.
func docB64(s string) bool {
	return stdB64Len(s) > 0 || rawB64Len(s) > 0
}

// trimPad drops base64 padding.
func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// docSalted: "salt$hash", the salt non-empty (a salt holding $ is split at
// the last $), the hash hex of hexLen characters.
func docSalted(d string, hexLen int) bool {
	i := len(d) - hexLen - 1
	return i > 0 && d[i] == '$' && isHexLen(d[i+1:], hexLen)
}

// docArgon2: "$<variant>$[v=19$]m=…,t=…,p=…$<salt>$<hash>", salt and hash
// unpadded base64 (PHC).
func docArgon2(d, prefix string) bool {
	if !hasPrefix(d, prefix) {
		return false
	}
	rest := d[len(prefix):]
	if hasPrefix(rest, "v=") {
		ver, after, _ := cut(rest, '$')
		if ver != "v=19" {
			return false
		}
		rest = after
	}
	params, rest, ok := cut(rest, '$')
	salt, hash, ok2 := cut(rest, '$')
	ms, r1, ok3 := cut(params, ',')
	ts, ps, ok4 := cut(r1, ',')
	if !ok || !ok2 || !ok3 || !ok4 || !hasPrefix(ms, "m=") || !hasPrefix(ts, "t=") || !hasPrefix(ps, "p=") {
		return false
	}
	m, t, p := parseUint(ms[2:]), parseUint(ts[2:]), parseUint(ps[2:])
	return p >= 1 && t >= 1 && m >= 8*p && rawB64Len(salt) > 0 && rawB64Len(hash) > 0 && count(hash, '$') == 0
}
