package emulator

import (
	"strings"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// maxPasswordBytes is bcrypt's limit, which Clerk's plaintext passwords
// meet: Clerk documents form_password_size_in_bytes_exceeded for a
// password over it ("for example, bcrypt limit", Clerk's error catalogue).
const maxPasswordBytes = 72

// breachedPasswords stands in for the list of hacked passwords Clerk
// checks against (HaveIBeenPwned, which the emulator cannot reach): the
// most common passwords of 8 characters or more in public breach lists.
// Compared in lower case.
var breachedPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`password 12345678 123456789 1234567890 password1 password123
		qwertyuiop qwerty123 11111111 00000000 88888888 iloveyou sunshine princess football baseball
		welcome1 abc12345 1q2w3e4r 1qaz2wsx letmein1 trustno1 superman whatever passw0rd
		changeme starwars dragon123 monkey123 qwerty12 asdfghjk zaq12wsx`) {
		breachedPasswords[p] = true
	}
}

// checkPassword applies Clerk's rules for a plaintext password: at most 72
// bytes always (bcrypt cannot take more, whatever the checks), and, unless
// skip_password_checks, at least 8 characters and not a breached password.
func checkPassword(pw string, skipChecks bool) []apiError {
	switch {
	case len(pw) > maxPasswordBytes:
		return []apiError{{Code: "form_password_size_in_bytes_exceeded", Param: "password",
			Message:     "Your password is too long. Please use a shorter one.",
			LongMessage: "Your password has exceeded the maximum number of bytes allowed, please shorten it or remove some special characters."}}
	case skipChecks:
		return nil
	case len([]rune(pw)) < 8:
		return []apiError{{Code: clerk.CodePasswordTooShort, Param: "password",
			Message: "is too short", LongMessage: "Passwords must be 8 characters or more."}}
	case breachedPasswords[strings.ToLower(pw)]:
		return []apiError{{Code: clerk.CodePasswordPwned, Param: "password", Message: "has been found in a data breach",
			LongMessage: "Password has been found in an online data breach. For account safety, please use a different password."}}
	}
	return nil
}
