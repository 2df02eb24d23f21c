package hashers

// foreignFormat is a digest shape some software writes that Clerk does not
// take as is, with advice. Hints are constant text: they never quote the
// digest.
type foreignFormat struct {
	prefix string
	hint   string
}

var foreignFormats = []foreignFormat{
	{"argon2$argon2", "a Django argon2 string: drop the leading \"argon2\" to get the PHC string and use argon2i or argon2id"},
	{"bcrypt$$2", "a Django BCryptPasswordHasher string: drop the leading \"bcrypt$\" and use bcrypt"},
	{"$argon2d$", "argon2d is not among Clerk's hashers (only argon2i and argon2id)"},
	{"$2x$", "$2x$ (crypt_blowfish's legacy bug-compatible variant) is not accepted; only $2a$, $2b$ and $2y$"},
	{"$2$", "the original $2$ bcrypt variant is not accepted; only $2a$, $2b$ and $2y$"},
	{"$bcrypt-sha256$", "a passlib bcrypt_sha256 string, which is not Django's format: bcrypt_sha256_django needs bcrypt_sha256$<bcrypt digest>"},
	{"$pbkdf2-sha256$", "a passlib pbkdf2_sha256 string (adapted base64): re-encode as pbkdf2_sha256$<iterations>$<salt base64>$<hash base64>"},
	{"$pbkdf2-sha512$", "a passlib pbkdf2_sha512 string (adapted base64): re-encode as pbkdf2_sha512_hex$<iterations>$<salt hex>$<hash hex>"},
	{"$pbkdf2$", "a passlib pbkdf2_sha1 string (adapted base64): re-encode as pbkdf2_sha1$<iterations>$<salt hex>$<hash hex>$<key length>"},
	{"pbkdf2:sha256", "a Werkzeug pbkdf2 string: re-encode as pbkdf2_sha256$<iterations>$<salt base64>$<hash base64>"},
	{"pbkdf2:sha512", "a Werkzeug pbkdf2 string: re-encode as pbkdf2_sha512_hex$<iterations>$<salt hex>$<hash hex>"},
	{"pbkdf2:sha1", "a Werkzeug pbkdf2 string: the salt is text, so it fits pbkdf2_sha1$<iterations>$<salt>$<hash hex>"},
	{"scrypt$", "a Django ScryptPasswordHasher string, which is not among Clerk's formats"},
	{"sha1$", "a Django SHA1PasswordHasher string, which is not among Clerk's hashers"},
	{"md5$", "a Django salted MD5 string: drop the leading \"md5$\" to get <salt>$<hash> for md5_salted"},
	{"$1$", "an md5-crypt digest, which is not among Clerk's hashers"},
	{"$5$", "a sha256-crypt digest, which is not among Clerk's hashers"},
	{"$6$", "a sha512-crypt digest, which is not among Clerk's hashers"},
	{"$y$", "a yescrypt digest, which is not among Clerk's hashers"},
	{"$wp$", "a WordPress 6.8+ digest (bcrypt of HMAC-SHA384), which is not among Clerk's hashers"},
	{"{ssha}", "write the scheme in capitals: {SSHA}"},
	{"{SHA}", "unsalted {SHA} is not accepted; only {SSHA} (ldap_ssha)"},
	{"{SSHA256}", "{SSHA256} is not accepted; only {SSHA} (salted SHA-1, ldap_ssha)"},
	{"{SSHA512}", "{SSHA512} is not accepted; only {SSHA} (salted SHA-1, ldap_ssha)"},
	{"{SMD5}", "{SMD5} is not accepted; only {SSHA} (ldap_ssha)"},
	{"{CRYPT}", "drop the {CRYPT} prefix: what follows may be a bcrypt or other crypt(3) digest"},
}

// hintFor suggests a better fit for a digest that failed hasher name's
// grammar, or returns "".
func hintFor(name, d string) string {
	if d[0] == ' ' || d[0] == '\t' || d[len(d)-1] == ' ' || d[len(d)-1] == '\t' || d[len(d)-1] == '\n' || d[len(d)-1] == '\r' {
		return "the digest has leading or trailing whitespace: trim it"
	}
	if len(d) >= 2 && (d[0] == '"' && d[len(d)-1] == '"' || d[0] == '\'' && d[len(d)-1] == '\'') {
		return "the digest is wrapped in quotes: remove them"
	}
	if name == "pbkdf2_sha512_hex" && hasPrefix(d, "pbkdf2_sha512$") {
		return "pbkdf2_sha512_hex digests start with pbkdf2_sha512_hex$; with a text salt the hasher is pbkdf2_sha512"
	}
	if name == "pbkdf2_sha1" && hasPrefix(d, "pbkdf2_sha1$") && isDjangoPBKDF2SHA1(d) {
		return "Django's pbkdf2_sha1 keeps the hash in base64; Clerk's pbkdf2_sha1 wants it as 40 hex characters"
	}
	if better := detectFirst(d, name); better != "" {
		return "looks like " + article(better) + " " + better + " digest"
	}
	for _, f := range foreignFormats {
		if hasPrefix(d, f.prefix) {
			return f.hint
		}
	}
	return ""
}

// isDjangoPBKDF2SHA1 reports whether d is pbkdf2_sha1$<iter>$<salt>$<hash
// base64 of 20 bytes>, as Django's PBKDF2SHA1PasswordHasher writes it.
func isDjangoPBKDF2SHA1(d string) bool {
	if count(d, '$') != 3 || len(d) < 29 {
		return false
	}
	return d[len(d)-29] == '$' && stdB64Len(d[len(d)-28:]) == 20
}

// article returns "an" for hasher names read with a leading vowel sound.
func article(name string) string {
	switch name[0] {
	case 'a', 'e', 'i', 'o', 'u', 'm', 'l', 'h':
		// md5 ("em-dee"), ldap ("el-"), hmac ("aitch-") read with a vowel sound.
		return "an"
	}
	return "a"
}
