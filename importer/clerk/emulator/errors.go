package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// apiError is one entry of a ClerkErrors body.
type apiError struct {
	Code        string
	Message     string
	LongMessage string
	Param       string
}

// errorJSON is the spec's ClerkError.
type errorJSON struct {
	Message     string     `json:"message"`
	LongMessage string     `json:"long_message"`
	Code        string     `json:"code"`
	Meta        *errorMeta `json:"meta,omitempty"`
}

type errorMeta struct {
	ParamName string `json:"param_name,omitempty"`
}

// errorsJSON is the spec's ClerkErrors.
type errorsJSON struct {
	Errors       []errorJSON `json:"errors"`
	ClerkTraceID string      `json:"clerk_trace_id"`
}

// errorReply answers status with errs.
func errorReply(status int, errs ...apiError) reply {
	body := errorsJSON{Errors: make([]errorJSON, len(errs)), ClerkTraceID: traceID()}
	for i, e := range errs {
		long := e.LongMessage
		if long == "" {
			long = e.Message
		}
		body.Errors[i] = errorJSON{Message: e.Message, LongMessage: long, Code: e.Code}
		if e.Param != "" {
			body.Errors[i].Meta = &errorMeta{ParamName: e.Param}
		}
	}
	return reply{status: status, body: body}
}

// unprocessable answers 422 with errs.
func unprocessable(errs ...apiError) reply {
	return errorReply(http.StatusUnprocessableEntity, errs...)
}

// authError answers a request whose Authorization header is missing or
// not "Bearer <key>" (badFormat), or whose key this instance does not
// take.
func authError(badFormat bool) reply {
	if badFormat {
		return errorReply(http.StatusUnauthorized, apiError{Code: "authorization_header_format_invalid",
			Message:     "Invalid Authorization header format",
			LongMessage: "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'"})
	}
	return errorReply(http.StatusUnauthorized, apiError{Code: "clerk_key_invalid",
		Message:     "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
		LongMessage: "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct."})
}

func notFound(long string) reply {
	return errorReply(http.StatusNotFound, apiError{Code: clerk.CodeResourceNotFound, Message: "not found", LongMessage: long})
}

func userNotFound() reply { return notFound("No user was found with this id.") }

func tooManyRequests(retry int) reply {
	rep := errorReply(http.StatusTooManyRequests, apiError{
		Code:        clerk.CodeTooManyRequests,
		Message:     "Too many requests",
		LongMessage: "Too many requests, retry later: the rate limit of this instance was exceeded.",
	})
	rep.retryAfter = retry
	return rep
}

// Builders for the form errors the rules produce.

func errExists(param, what string) apiError {
	return apiError{Code: clerk.CodeIdentifierExists, Param: param,
		Message:     "That " + what + " is taken. Please try another.",
		LongMessage: "That " + what + " is taken. Please try another."}
}

func errFormat(param, long string) apiError {
	return apiError{Code: clerk.CodeParamFormatInvalid, Param: param, Message: "is invalid", LongMessage: long}
}

func errValue(param, long string) apiError {
	return apiError{Code: clerk.CodeParamValueInvalid, Param: param, Message: "is invalid", LongMessage: long}
}

func errMissing(param string) apiError {
	return apiError{Code: clerk.CodeParamMissing, Param: param, Message: "is missing",
		LongMessage: param + " must be included."}
}

func errUnknown(param string) apiError {
	return apiError{Code: clerk.CodeParamUnknown, Param: param, Message: "is unknown",
		LongMessage: param + " is not a valid parameter for this request."}
}

func errNil(param string) apiError {
	return apiError{Code: "form_param_nil", Param: param, Message: "is invalid",
		LongMessage: param + " must not be null."}
}

// errType is a property of the wrong JSON type.
func errType(param, typ string) apiError {
	return apiError{Code: "form_param_type_invalid", Param: param, Message: "is invalid",
		LongMessage: "`" + param + "` must be a `" + typ + "`."}
}

// errTime is a timestamp that is not RFC 3339.
func errTime(param string) apiError {
	return apiError{Code: "form_param_invalid_time", Param: param, Message: "invalid format",
		LongMessage: param + " must contain a datetime specified in RFC3339 format (e.g. `2022-10-20T10:00:27.645Z`)."}
}

// errNeeds is param missing while other, which needs it, is present.
func errNeeds(param, other string) apiError {
	return apiError{Code: "form_conditional_param_missing", Param: param, Message: "is missing",
		LongMessage: "`" + param + "` is required when `" + other + "` is present."}
}

// errExcludes is param present while other, which excludes it, is too.
func errExcludes(param, other string) apiError {
	return apiError{Code: "form_conditional_param_disallowed", Param: param, Message: "is not allowed",
		LongMessage: "`" + param + "` isn't allowed when `" + other + "` is present."}
}

// errUnverified is param naming an identification that is not verified.
func errUnverified(param string) apiError {
	return apiError{Code: "form_verification_needed", Param: param, Message: "needs verification",
		LongMessage: "This identification needs to be verified before you can perform this action."}
}

// errNoResource is param naming something that does not exist (here).
func errNoResource(param string) apiError {
	return apiError{Code: "form_resource_not_found", Param: param, Message: "is missing",
		LongMessage: "The resource associated with the supplied " + param + " was not found."}
}

// errTooLarge is a property over its size limit.
func errTooLarge(param, long string) apiError {
	return apiError{Code: "form_param_exceeds_allowed_size", Param: param, Message: "is too large", LongMessage: long}
}

func errDataMissing(param string) apiError {
	return apiError{Code: clerk.CodeDataMissing, Param: param, Message: "missing data",
		LongMessage: param + " is required by the settings of this instance."}
}

func traceID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func itoa(n int) string { return strconv.Itoa(n) }
