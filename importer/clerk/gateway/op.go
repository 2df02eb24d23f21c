package gateway

// Op names one call of clerk.API.
type Op uint8

// The calls of clerk.API.
const (
	OpCreateUser Op = iota
	OpGetUser
	OpListUsers
	OpCountUsers
	OpUpdateUser
	OpUpdateUserMetadata
	OpReplaceUserMetadata
	OpDeleteUser
	OpBanUser
	OpUnbanUser
	OpLockUser
	OpUnlockUser
	OpCreateEmailAddress
	OpCreatePhoneNumber
	OpDeleteEmailAddress
	OpDeletePhoneNumber
	OpGetInstance
	OpBanUsers
	OpListUsersLazy
	numOps
)

var opNames = [numOps]string{
	OpCreateUser:          "POST /v1/users",
	OpGetUser:             "GET /v1/users/{user_id}",
	OpListUsers:           "GET /v1/users",
	OpCountUsers:          "GET /v1/users/count",
	OpUpdateUser:          "PATCH /v1/users/{user_id}",
	OpUpdateUserMetadata:  "PATCH /v1/users/{user_id}/metadata",
	OpReplaceUserMetadata: "PUT /v1/users/{user_id}/metadata",
	OpDeleteUser:          "DELETE /v1/users/{user_id}",
	OpBanUser:             "POST /v1/users/{user_id}/ban",
	OpUnbanUser:           "POST /v1/users/{user_id}/unban",
	OpLockUser:            "POST /v1/users/{user_id}/lock",
	OpUnlockUser:          "POST /v1/users/{user_id}/unlock",
	OpCreateEmailAddress:  "POST /v1/email_addresses",
	OpCreatePhoneNumber:   "POST /v1/phone_numbers",
	OpDeleteEmailAddress:  "DELETE /v1/email_addresses/{email_address_id}",
	OpDeletePhoneNumber:   "DELETE /v1/phone_numbers/{phone_number_id}",
	OpGetInstance:         "GET /v1/instance",
	OpBanUsers:            "POST /v1/users/ban",
	OpListUsersLazy:       "GET /v1/users",
}

// String is the call's method and route, as the emulator's statistics
// and Clerk's documentation name it. Two calls may send one route
// (ListUsers and ListUsersLazy: GET /v1/users).
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "unknown call"
}

// Ops lists every call, in order.
func Ops() []Op {
	ops := make([]Op, numOps)
	for i := range ops {
		ops[i] = Op(i)
	}
	return ops
}

// PerUser reports whether Clerk counts the call against the user's own
// budget (10 requests per 10 s per user: PATCH user, PATCH|PUT metadata).
func (o Op) PerUser() bool {
	return o == OpUpdateUser || o == OpUpdateUserMetadata || o == OpReplaceUserMetadata
}
