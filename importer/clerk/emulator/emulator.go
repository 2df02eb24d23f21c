// Package emulator is a stateful local fake of Clerk's Backend API users
// endpoints (version clerk.APIVersion), for rehearsing whole migrations on
// loopback. It keeps its own model of users and enforces what Clerk
// enforces: bearer authentication, unique identifiers (email and username
// compared case-insensitively), identifier formats, the password-hasher
// allow-list and digest formats, plaintext password rules, TOTP secrets,
// request bodies (application/json objects of the operation's properties,
// null only where the spec allows it), metadata size, fixed-window rate
// limits (instance-wide and per user for updates, counted separately for
// each secret key, since a key names an instance), and it answers in the
// shapes of the spec (shared/clerk-openapi/bapi.yml), 200 for CreateUser,
// with error codes Clerk documents (clerk.DocumentedCode).
//
// Routes: GET /v1/instance, POST/GET /v1/users, GET /v1/users/count, GET/PATCH/DELETE
// /v1/users/{user_id}, PATCH/PUT /v1/users/{user_id}/metadata, POST
// /v1/users/{user_id}/ban|unban|lock|unlock, POST /v1/users/ban|unban (up
// to 50 user_ids; an unknown id is left out of the answer), POST /v1/email_addresses,
// POST /v1/phone_numbers, GET/PATCH/DELETE
// /v1/email_addresses/{email_address_id}, GET/PATCH/DELETE
// /v1/phone_numbers/{phone_number_id}. Control routes (bearer key
// required, never rate limited or faulted): GET /__emulator/state, GET
// /__emulator/stats, POST /__emulator/reset.
//
// # Faults
//
// Config.Faults injects latency, 5xx answers (500 JSON, 502 HTML, 503 JSON,
// all before the change is applied), connection resets (closed with no
// answer before the change is applied), slow answers (the change is applied,
// the answer is held back for SlowDelay) and lost responses (the change is
// applied, then the connection is closed with no answer). Faults apply to
// /v1 routes only, after authentication and rate limiting. The emulator
// command takes every one of them as a flag.
//
// Fault decisions are deterministic from Faults.Seed even under
// concurrency: each decision is derived from a hash of (seed, method, path
// with its canonical query, request body, n), where n counts how many times
// this exact request has been seen before. No shared random stream is
// consumed in arrival order, so the k-th sending of a given request meets
// the same fate in every run, whatever the interleaving. Resets and lost
// responses abort the handler with http.ErrAbortHandler, so they need a
// real net/http server (Start, httptest.Server), not a ResponseRecorder.
//
// # Choices where Clerk documents no behaviour
//
// Every error code the emulator answers is one Clerk documents, with the
// status Clerk documents for it (its tests check each answer against
// clerk.DocumentedCode). Where Clerk's spec, docs and error catalogue do
// not say what it does, the emulator makes a choice, to revisit when
// Clerk's real answers are known:
//   - Instances: with Config.SecretKey empty any sk_test_/sk_live_ key is
//     accepted. Each key is its own instance for rate limits (Clerk limits
//     per secret key), but all keys share one set of users: a rehearsal
//     wants one store. So the emulator is one instance as GET /v1/instance
//     tells it: one id per state (Config.InstanceID, or a new "ins_" id),
//     kept in the state file so that an emulator restarted from it is the
//     same instance, kept by a reset; every key reaches it (a rotated key
//     is the same instance, as with Clerk). Its environment_type follows
//     the asking key's kind (sk_live_ production, else development), since
//     the budget does: Clerk's instances are one or the other, an emulator
//     state serves both. allowed_origins and workspace_id are null.
//   - Rate-limit windows are aligned to multiples of the window on the
//     clock; Clerk documents fixed windows per instance, not where they
//     start. Every request that passes authentication counts, refused or
//     not.
//   - Bodies: a body sent with a Content-Type other than application/json,
//     or none, is 415 unsupported_content_type (the spec's operations take
//     application/json only; whether Clerk also reads form bodies is not
//     documented). Text that is not JSON is 400
//     malformed_request_parameters; a JSON value that is not an object,
//     or an empty body where the spec requires one (CreateUser,
//     UpdateUser), is 400 request_body_invalid. An empty body where the
//     spec makes it optional (metadata, email and phone routes) is an
//     empty object.
//   - A property of the wrong JSON type is 422 form_param_type_invalid
//     ("a form parameter has the wrong type"); Clerk's catalogue also
//     lists form_param_value_invalid for a body that does not parse into
//     its types, and does not say which a JSON body gets.
//   - An unknown password_hasher is 422 form_param_value_invalid (param
//     password_hasher), not form_password_digest_invalid_code; the value
//     is not echoed (a swapped column could put a digest there).
//   - password together with password_digest is 422
//     form_conditional_param_disallowed on password_digest (on
//     password_hasher when only the hasher comes with it); one of
//     password_digest and password_hasher without the other is 422
//     form_conditional_param_missing naming the missing one;
//     skip_password_checks or sign_out_of_other_sessions on UpdateUser
//     without password is 422 form_conditional_param_missing naming
//     password ("can only be used when providing a password", the spec).
//   - Breached passwords: a short built-in list of the commonest breached
//     passwords stands in for HaveIBeenPwned, which Clerk asks; "reject
//     compromised passwords" is taken as on, as it is by default.
//   - A plaintext password over 72 bytes is refused
//     (form_password_size_in_bytes_exceeded) even with
//     skip_password_checks: the limit is bcrypt's, not a policy.
//   - Metadata is limited to 8 KB (Clerk's metadata docs): each of public,
//     private and unsafe metadata at most 8192 bytes as compact JSON, as
//     validate measures it, 422 form_param_exceeds_allowed_size (Clerk
//     says neither whether the limit is per object nor 8000 or 8192).
//     PATCH checks the merged object.
//   - primary_email_address_id (and the phone and wallet ones) naming an
//     identifier the user does not have is 422 form_resource_not_found;
//     naming an unverified one, or primary: true for an unverified email
//     address or phone number, is 422 form_verification_needed.
//   - Deleting a user's primary email address or phone number makes the
//     first other verified one of its kind (in the order they were added)
//     primary, none when none is verified; Clerk says only that another
//     verified address becomes primary. A user's last identification
//     counts its email addresses, phone numbers, web3 wallets and
//     username.
//   - POST /v1/email_addresses and /v1/phone_numbers create an unverified
//     address unless verified is true (the spec gives no default), and
//     the first address of its kind becomes primary ("Default: false,
//     unless it is the first").
//   - Query parameters: more than 100 values of one filter is 422
//     form_param_array_size_exceeded; created_at_before/after that are not
//     Unix milliseconds are 422 form_param_invalid_date; other bad paging
//     values are 422 form_param_value_invalid or form_param_format_invalid;
//     starting_after naming no user is 422 form_param_value_invalid.
//   - A known path with another method is 404 resource_not_found, not 405.
//   - Password digests are judged by the emulator's own statement of the
//     formats Clerk documents (digests.go), not by the validator's
//     grammar (mapping/hashers), so that a rehearsal can catch a mistake in
//     the validator's rules; a test runs both over the same digests and
//     names every difference. Where Clerk's documentation leaves a form open
//     the emulator accepts it, each with its reason in digests.go:
//     scrypt_werkzeug with or without the leading $ of Clerk's docs, argon2
//     without v=, phpass with $H$ and md5_phpass with $P$, pbkdf2_sha256 in
//     unpadded base64, a salted digest whose salt holds $, any non-empty
//     hmac_sha256_utf16_b64 digest (no layout documented). Lengths Clerk does
//     not document (a PBKDF2 or argon2 hash, a salt) are not checked.
//   - Usernames: Clerk's docs refuse ^ $ ! . ` # + ~ by default ("but this
//     can be customized": Config.UsernameAllows) and support only
//     Latin-based characters; other ASCII punctuation, which they neither
//     list nor allow, is accepted, and white space is refused. A username
//     of digits only is form_username_needs_non_number_char.
//   - Injected 5xx answers are 500 internal_clerk_error, 503
//     service_unavailable and an HTML 502 from a proxy.
//
// Secrets: the emulator keeps no password, digest, TOTP secret or backup
// code, only whether each is present (and the hasher name), which is all it
// needs to answer password_enabled, totp_enabled and backup_code_enabled.
package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures an Emulator. The zero Config is a development
// instance on 127.0.0.1 that accepts any sk_test_/sk_live_ key.
type Config struct {
	// Addr is where Start listens; default "127.0.0.1:0" (loopback).
	Addr string
	// SecretKey, when set, is the only bearer key accepted; when empty any
	// "sk_test_..." or "sk_live_..." key is. Anything else is 401.
	SecretKey string
	// RequestsPerWindow is the instance-wide limit on /v1 requests per
	// Window; 0 decides by the request's key: sk_live_ 1000, sk_test_ 100.
	RequestsPerWindow int
	// Window is the fixed rate-limit window; default 10s.
	Window time.Duration
	// UserUpdatesPerWindow limits PATCH /v1/users/{id} and PATCH|PUT
	// /v1/users/{id}/metadata per user and Window; default 10.
	UserUpdatesPerWindow int
	// RequiredIdentifiers lists the identifiers the instance requires on
	// CreateUser ("email_address", "phone_number", "username",
	// "web3_wallet"): 422 form_data_missing when absent, unless the request
	// sets skip_user_requirement.
	RequiredIdentifiers []string
	// UsernameAllows lists the characters of ^$!.`#+~, which Clerk's
	// usernames refuse by default, that this instance allows, as an
	// instance's username settings can (".": john.doe is accepted).
	UsernameAllows string
	// PasswordRequired makes CreateUser answer 422 form_data_missing
	// (param password) when none of password, password_digest and
	// skip_password_requirement is given, like an instance with passwords on.
	PasswordRequired bool
	// InstanceID is the id GET /v1/instance answers ("ins_…"); empty means
	// a new one. It belongs to the state: SaveState writes it and LoadState
	// takes the file's, so an emulator restarted from its state file is the
	// same instance.
	InstanceID string
	// Faults injects failures into /v1 routes.
	Faults Faults
	// Now is the clock (timestamps and rate-limit windows); default time.Now.
	Now func() time.Time
}

// Faults describes injected failures. Rates are probabilities per request
// in [0, 1]; ErrorRate, ResetRate and LostResponseRate are exclusive of
// each other, SlowRate and Latency combine with any of them.
type Faults struct {
	// Seed makes every fault decision reproducible (see the package doc).
	Seed int64
	// Latency is added to every /v1 request, plus a uniformly drawn part
	// of Jitter: the first half on its way in, before the rate limiter
	// counts it, the second half on the answer's way back (so jitter
	// bunches requests at the limiter as the network does at Clerk's).
	Latency, Jitter time.Duration
	// ErrorRate answers 5xx (500 JSON, 502 HTML body, 503) without applying.
	ErrorRate float64
	// ResetRate closes the connection with no answer before the change is
	// applied.
	ResetRate float64
	// SlowRate holds the answer back for SlowDelay after the change is
	// applied.
	SlowRate  float64
	SlowDelay time.Duration
	// LostResponseRate applies the change, then closes the connection with
	// no answer.
	LostResponseRate float64
}

// enabled reports whether any fault can happen.
func (f Faults) enabled() bool {
	return f.Latency > 0 || f.Jitter > 0 || f.ErrorRate > 0 || f.ResetRate > 0 || f.SlowRate > 0 || f.LostResponseRate > 0
}

// Emulator is the fake Clerk instance; it is an http.Handler and is safe
// for concurrent use.
type Emulator struct {
	cfg      Config
	window   time.Duration
	perUser  int
	required map[string]bool

	mu         sync.RWMutex
	store      *store
	instanceID string

	limits  *limiter
	faults  *faultPlan
	stats   *statsRecorder
	running atomic.Int64
}

// New returns an Emulator for cfg.
func New(cfg Config) *Emulator {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Emulator{cfg: cfg, window: cfg.Window, perUser: cfg.UserUpdatesPerWindow, required: map[string]bool{}}
	if e.window <= 0 {
		e.window = 10 * time.Second
	}
	if e.perUser <= 0 {
		e.perUser = 10
	}
	for _, id := range cfg.RequiredIdentifiers {
		e.required[id] = true
	}
	e.store = newStore()
	e.instanceID = cfg.InstanceID
	if e.instanceID == "" {
		e.instanceID = newID("ins_", time.Now()) // not cfg.Now: the rate limiter alone reads that clock
	}
	e.limits = newLimiter(e.window)
	e.faults = newFaultPlan(cfg.Faults)
	e.stats = newStatsRecorder()
	return e
}

// Reset forgets every user, the statistics, the rate-limit windows and
// how often each request was seen (for fault decisions). The instance
// keeps its id.
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.store = newStore()
	e.mu.Unlock()
	e.limits.reset()
	e.faults.reset()
	e.stats.reset()
}

// request is one parsed API call handed to a route handler.
type request struct {
	r      *http.Request
	userID string // the {user_id} path segment, if any
	// objectID is the {email_address_id} or {phone_number_id} segment.
	objectID string
	body     []byte
	key      string // the bearer key
}

// reply is a route handler's answer, written by ServeHTTP (or held back
// or dropped by a fault).
type reply struct {
	status     int
	body       any // marshalled as JSON
	retryAfter int // seconds; 0 for none
}

// maxBodyBytes bounds a request body.
const maxBodyBytes = 4 << 20

// ServeHTTP answers the API and control routes.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__emulator/") {
		e.serveControl(w, r)
		return
	}
	n := e.running.Add(1)
	defer e.running.Add(-1)
	e.stats.concurrency(n)

	rt := matchRoute(r.Method, r.URL.Path)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		// The client went away mid-body; nothing to answer.
		e.stats.record(rt.pattern, 0, outcomeNoAnswer)
		panic(http.ErrAbortHandler)
	}
	key, refused := e.authenticate(r)
	if refused != nil {
		e.finish(w, rt.pattern, *refused)
		return
	}
	e.stats.version(r.Header.Get("Clerk-API-Version"))
	faulted := strings.HasPrefix(r.URL.Path, "/v1/") && e.faults.active()
	if faulted && !e.wayIn(r, rt, body) {
		panic(http.ErrAbortHandler)
	}
	if retry, ok := e.limits.allowInstance(key, e.cfg.Now(), e.instanceLimit(key)); !ok {
		if faulted && !sleep(r, e.faults.wayOut(r.Method, canonicalTarget(r), body)) {
			e.stats.record(rt.pattern, 0, outcomeNoAnswer)
			panic(http.ErrAbortHandler)
		}
		e.finish(w, rt.pattern, tooManyRequests(retry))
		return
	}
	if len(body) > maxBodyBytes {
		e.finish(w, rt.pattern, errorReply(http.StatusRequestEntityTooLarge, apiError{Code: "request_body_too_large", Message: "request body too large"}))
		return
	}
	req := &request{r: r, userID: rt.userID, objectID: rt.objectID, body: body, key: key}
	if !faulted {
		e.finish(w, rt.pattern, e.handle(rt, req))
		return
	}
	e.serveFaulted(w, rt, req)
}

// handle runs the route's handler, after the per-user update limit.
func (e *Emulator) handle(rt route, req *request) reply {
	if rt.handler == nil {
		return notFound("The requested resource was not found.")
	}
	if rt.perUserLimited {
		if retry, ok := e.limits.allowUser(req.key, e.cfg.Now(), rt.userID, e.perUser); !ok {
			return tooManyRequests(retry)
		}
	}
	return rt.handler(e, req)
}

// wayIn sleeps the first half of the request's latency, its way to the
// instance, before the rate limiter counts it (as requests reach Clerk's
// counter after the network): it reports false when the client went away
// meanwhile.
func (e *Emulator) wayIn(r *http.Request, rt route, body []byte) bool {
	if sleep(r, e.faults.wayIn(r.Method, canonicalTarget(r), body)) {
		return true
	}
	e.stats.record(rt.pattern, 0, outcomeNoAnswer)
	return false
}

// serveFaulted applies the fault decided for req, after the second half
// of its latency (the answer's way back).
func (e *Emulator) serveFaulted(w http.ResponseWriter, rt route, req *request) {
	d := e.faults.decide(req.r.Method, canonicalTarget(req.r), req.body)
	if d.latency > 0 && !sleep(req.r, d.latency-d.latency/2) {
		e.stats.record(rt.pattern, 0, outcomeNoAnswer)
		panic(http.ErrAbortHandler)
	}
	switch d.kind {
	case faultError:
		e.stats.fault(d.kind)
		e.writeServerError(w, rt.pattern, d.status)
		return
	case faultReset:
		e.stats.fault(d.kind)
		e.stats.record(rt.pattern, 0, outcomeNoAnswer)
		panic(http.ErrAbortHandler)
	case faultLost:
		e.handle(rt, req) // applied, answer dropped
		e.stats.fault(d.kind)
		e.stats.record(rt.pattern, 0, outcomeNoAnswer)
		panic(http.ErrAbortHandler)
	}
	rep := e.handle(rt, req)
	if d.slow {
		e.stats.fault(faultSlow)
		if !sleep(req.r, e.cfg.Faults.SlowDelay) {
			// The client gave up waiting: the change stays applied.
			e.stats.record(rt.pattern, 0, outcomeNoAnswer)
			panic(http.ErrAbortHandler)
		}
	}
	e.finish(w, rt.pattern, rep)
}

// sleep waits d or until the client goes away; it reports whether the
// whole delay passed.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// writeServerError writes an injected 5xx.
func (e *Emulator) writeServerError(w http.ResponseWriter, pattern string, status int) {
	if status == http.StatusBadGateway {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
		e.stats.record(pattern, status, outcomeAnswered)
		return
	}
	code, msg := "internal_clerk_error", "Oops, an unexpected error occurred"
	if status == http.StatusServiceUnavailable {
		code, msg = "service_unavailable", "The service is temporarily unavailable"
	}
	e.finish(w, pattern, errorReply(status, apiError{Code: code, Message: msg}))
}

// finish writes rep and records it.
func (e *Emulator) finish(w http.ResponseWriter, pattern string, rep reply) {
	writeReply(w, rep)
	e.stats.record(pattern, rep.status, outcomeAnswered)
}

// writeReply writes rep as JSON.
func writeReply(w http.ResponseWriter, rep reply) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.body); err != nil {
		rep = errorReply(http.StatusInternalServerError, apiError{Code: "internal_clerk_error", Message: "could not encode the response"})
		buf.Reset()
		enc.Encode(rep.body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if rep.retryAfter > 0 {
		h.Set("Retry-After", itoa(rep.retryAfter))
	}
	w.WriteHeader(rep.status)
	w.Write(buf.Bytes())
}

// authenticate checks the bearer key: it returns the key, or the refusal.
func (e *Emulator) authenticate(r *http.Request) (string, *reply) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", refuse(authError(true))
	}
	if e.cfg.SecretKey != "" {
		if key != e.cfg.SecretKey {
			return "", refuse(authError(false))
		}
		return key, nil
	}
	if (!strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "sk_live_")) || len(key) <= len("sk_test_") {
		return "", refuse(authError(false))
	}
	return key, nil
}

// instanceLimit is the instance-wide limit for a request made with key.
func (e *Emulator) instanceLimit(key string) int {
	if e.cfg.RequestsPerWindow > 0 {
		return e.cfg.RequestsPerWindow
	}
	if strings.HasPrefix(key, "sk_live_") {
		return 1000
	}
	return 100
}

// serveControl answers /__emulator/*.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	if _, refused := e.authenticate(r); refused != nil {
		writeReply(w, *refused)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/__emulator/state":
		writeReply(w, reply{status: http.StatusOK, body: e.Snapshot()})
	case r.Method == http.MethodGet && r.URL.Path == "/__emulator/stats":
		writeReply(w, reply{status: http.StatusOK, body: e.Stats()})
	case r.Method == http.MethodPost && r.URL.Path == "/__emulator/reset":
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeReply(w, notFound("No such emulator control route."))
	}
}

// retryAfterSeconds is the whole seconds left until end, at least 1.
func retryAfterSeconds(now, end time.Time) int {
	s := int(math.Ceil(end.Sub(now).Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
