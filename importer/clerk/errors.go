package clerk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes this project acts on (Clerk's errors[].code).
const (
	CodeIdentifierExists      = "form_identifier_exists"
	CodeParamFormatInvalid    = "form_param_format_invalid"
	CodeDataMissing           = "form_data_missing"
	CodeParamMissing          = "form_param_missing"
	CodeParamUnknown          = "form_param_unknown"
	CodeParamValueInvalid     = "form_param_value_invalid"
	CodePasswordDigestInvalid = "form_password_digest_invalid_code"
	CodePasswordPwned         = "form_password_pwned"
	CodePasswordTooShort      = "form_password_length_too_short"
	CodeInvalidTOTPSecret     = "invalid_totp_secret_code"
	CodeAuthenticationInvalid = "authentication_invalid"
	CodeAuthorizationInvalid  = "authorization_invalid"
	CodeUserQuotaExceeded     = "user_quota_exceeded"
	CodeQuotaExceeded         = "quota_exceeded"
	CodeResourceNotFound      = "resource_not_found"
	CodeTooManyRequests       = "too_many_requests"
)

// ErrorDetail is one entry of a ClerkErrors body.
type ErrorDetail struct {
	Code        string `json:"code"`
	Message     string `json:"message"`
	LongMessage string `json:"long_message,omitempty"`
	Meta        struct {
		ParamName string `json:"param_name,omitempty"`
	} `json:"meta,omitempty"`
}

// Error is a non-2xx answer from Clerk. A body that is not ClerkErrors JSON
// (a proxy's HTML 502) still yields an Error with its Status and no Details.
// It never holds the request body or the secret key.
type Error struct {
	Method     string        // "POST"
	Path       string        // "/v1/users" (no query string)
	Status     int           // HTTP status
	Details    []ErrorDetail // errors[]; empty for a non-JSON body
	TraceID    string        // clerk_trace_id
	RetryAfter time.Duration // parsed Retry-After; 0 when absent
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clerk: %s %s: %d", e.Method, e.Path, e.Status)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s", d.Code)
		if d.Meta.ParamName != "" {
			fmt.Fprintf(&b, " (%s)", d.Meta.ParamName)
		}
		if d.LongMessage != "" {
			fmt.Fprintf(&b, ": %s", d.LongMessage)
		} else if d.Message != "" {
			fmt.Fprintf(&b, ": %s", d.Message)
		}
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " [trace %s]", e.TraceID)
	}
	return b.String()
}

// Codes returns every errors[].code.
func (e *Error) Codes() []string {
	codes := make([]string, len(e.Details))
	for i, d := range e.Details {
		codes[i] = d.Code
	}
	return codes
}

// HasCode reports whether any errors[].code equals code.
func (e *Error) HasCode(code string) bool {
	for _, d := range e.Details {
		if d.Code == code {
			return true
		}
	}
	return false
}

// Code is the first errors[].code, or "http_<status>" for a body without one.
func (e *Error) Code() string {
	if len(e.Details) > 0 && e.Details[0].Code != "" {
		return e.Details[0].Code
	}
	return fmt.Sprintf("http_%d", e.Status)
}

// Param is the first meta.param_name, if any.
func (e *Error) Param() string {
	for _, d := range e.Details {
		if d.Meta.ParamName != "" {
			return d.Meta.ParamName
		}
	}
	return ""
}

// IdentifierExists reports whether Clerk refused because an identifier is
// taken, and which one (meta.param_name: "external_id", "email_address", ...).
func (e *Error) IdentifierExists() (param string, ok bool) {
	for _, d := range e.Details {
		if d.Code == CodeIdentifierExists {
			return d.Meta.ParamName, true
		}
	}
	return "", false
}

// RateLimited reports a 429.
func (e *Error) RateLimited() bool { return e.Status == 429 }

// Retryable reports whether the same request may succeed later as it is:
// 429, 5xx, and 408.
func (e *Error) Retryable() bool {
	return e.Status == 429 || e.Status == 408 || e.Status >= 500
}

// Fatal reports whether the error ends the whole run, since every further
// request would fail the same way: a bad or revoked key (401), a forbidden
// instance (403), an exhausted user quota.
func (e *Error) Fatal() bool {
	if e.Status == 401 || e.Status == 403 {
		return true
	}
	return e.HasCode(CodeUserQuotaExceeded) || e.HasCode(CodeQuotaExceeded)
}

// Class is what an error means for the run, in the manner of rclone's pacer:
// classified by consequence, not by type.
type Class int

// The classes of errors.
const (
	// NoError: the call succeeded.
	NoError Class = iota
	// Retry: try the same call again after a pause (429, 5xx, timeouts,
	// resets, lost responses).
	Retry
	// Permanent: this call fails as it is; record the failure and go on.
	Permanent
	// Fatal: stop the whole run (401, 403, quota).
	Fatal
	// Canceled: the run's context ended; not the call's fault.
	Canceled
)

func (c Class) String() string {
	switch c {
	case NoError:
		return "ok"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	case Fatal:
		return "fatal"
	case Canceled:
		return "canceled"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Classify says what err, returned by any Client call, means for the run.
// An error in the chain that says it is Fatal (a Fatal *Error, a stopped
// pacer's pacer.DownError) is Fatal; a *RequestError (the call was
// refused before sending) is Permanent;
// cancellation of the caller's own context is Canceled; other errors that
// are not *Error (transport failures: timeouts, resets, refused
// connections, truncated bodies) are Retry.
func Classify(err error) Class {
	if err == nil {
		return NoError
	}
	var f fataler
	if errors.As(err, &f) && f.Fatal() {
		return Fatal
	}
	var re *RequestError
	if errors.As(err, &re) {
		return Permanent
	}
	var ae *Error
	if errors.As(err, &ae) {
		switch {
		case ae.Fatal():
			return Fatal
		case ae.Retryable():
			return Retry
		default:
			return Permanent
		}
	}
	var te *TransportError
	if errors.As(err, &te) {
		if te.Canceled {
			return Canceled
		}
		return Retry
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	return Retry
}

// fataler is an error that says whether it ends the run: *Error does, and
// so does the error of a pacer stopped because the target is down
// (pacer.DownError), which this package does not know.
type fataler interface{ Fatal() bool }

// TransportError is a call that got no HTTP answer, or lost it midway: a
// timeout, a refused or reset connection, a truncated body.
type TransportError struct {
	Method string
	Path   string
	// Sent is false only when the request certainly never reached the
	// server (the connection could not be made); otherwise the server may
	// have applied it.
	Sent bool
	// Canceled is true when the caller's context ended the call.
	Canceled bool
	Err      error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("clerk: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// MaybeApplied reports whether a failed call may nevertheless have been
// carried out by Clerk, so that a create must be looked up (by external_id)
// before it is sent again: any transport failure after the request may have
// been written, and any 5xx (a gateway can time out after Clerk committed).
func MaybeApplied(err error) bool {
	var re *RequestError
	if errors.As(err, &re) {
		return false
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Sent
	}
	return err != nil
}

// RequestError is a call the client refused to send because its arguments
// are invalid (an empty user id, too many filter values, a body that does
// not encode). Nothing reached Clerk; sending it again cannot succeed.
type RequestError struct {
	Method string
	Path   string
	Err    error
}

// Error says which call was refused and why; it never holds the key.
func (e *RequestError) Error() string {
	return fmt.Sprintf("clerk: %s %s: invalid request: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the reason the call was refused.
func (e *RequestError) Unwrap() error { return e.Err }
