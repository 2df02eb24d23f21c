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

func authError() reply {
	return errorReply(http.StatusUnauthorized, apiError{
		Code:        clerk.CodeAuthenticationInvalid,
		Message:     "Invalid authentication",
		LongMessage: "The request is missing a valid \"Authorization: Bearer <secret key>\" header.",
	})
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

func malformed(long string) reply {
	return errorReply(http.StatusBadRequest, apiError{Code: "malformed_request", Message: "malformed request", LongMessage: long})
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
