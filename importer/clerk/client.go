// Package clerk is a thin client for the parts of Clerk's Backend API that
// clerkmigrate uses (the instance a key reaches, users, their metadata,
// email addresses and phone numbers), pinned to API version APIVersion.
//
// The client sends one HTTP request per call and neither paces nor retries:
// the importer does both, guided by Classify and MaybeApplied. Every error a
// call returns is an *Error (Clerk answered with a non-2xx status), a
// *TransportError (no usable answer), or a *RequestError (the call was
// refused before anything was sent). The secret key never appears in an
// error, a log record or a printed Config or Client.
package clerk

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Clerk's Backend API.
const DefaultBaseURL = "https://api.clerk.com/v1"

// DefaultTimeout bounds one request (connect, send, answer, body) when
// Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MaxResponseBody is the most of a response body the client reads; a
// larger answer is a *TransportError.
const MaxResponseBody = 8 << 20

// maxDrain is how much of an unread body is discarded so that the
// connection can be reused; beyond it the connection is closed instead.
const maxDrain = 64 << 10

// maxFilterValues is how many values Clerk accepts in one list filter.
const maxFilterValues = 100

// maxLimit is the largest page GET /v1/users serves.
const maxLimit = 500

const redacted = "[redacted]"

// Config configures a Client.
type Config struct {
	// BaseURL is the API root including the version path; default
	// DefaultBaseURL. The emulator's URL() ends in /v1 as well.
	BaseURL string
	// SecretKey is the instance's secret key (sk_live_… or sk_test_…).
	// It is sent only in the Authorization header and is redacted from
	// every print of Config.
	SecretKey string `json:"-"`
	// HTTPClient sends the requests; default a client over a transport
	// tuned for many concurrent requests to one host, that does not
	// follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each request; 0 means DefaultTimeout, a negative
	// value means no bound beyond the caller's context.
	Timeout time.Duration
	// UserAgent is sent as User-Agent; default "clerkmigrate/<version>".
	UserAgent string
}

// String describes the Config with the secret key redacted.
func (c Config) String() string {
	return fmt.Sprintf("clerk.Config{BaseURL:%q SecretKey:%s HTTPClient:%t Timeout:%s UserAgent:%q}",
		c.BaseURL, redactKey(c.SecretKey), c.HTTPClient != nil, c.Timeout, c.UserAgent)
}

// GoString is String, so that %#v redacts the key too.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb, so that no verb (%v, %+v, %#v, %s,
// %q, %x, %d) reaches the secret key through reflection.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue logs the Config with the secret key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("secret_key", redactKey(c.SecretKey)),
		slog.Duration("timeout", c.Timeout),
		slog.String("user_agent", c.UserAgent),
	)
}

// redactKey shows whether a key is set and of which kind, never its value.
func redactKey(key string) string {
	switch {
	case key == "":
		return `""`
	case strings.HasPrefix(key, "sk_live_"):
		return "sk_live_" + redacted
	case strings.HasPrefix(key, "sk_test_"):
		return "sk_test_" + redacted
	}
	return redacted
}

// Client calls Clerk's Backend API. It is safe for concurrent use.
type Client struct {
	baseURL   string // without a trailing slash
	basePath  string // the path of baseURL, e.g. "/v1"
	auth      string // "Bearer <secret key>"; never printed
	keyKind   string // redacted form of the key, for printing
	http      *http.Client
	timeout   time.Duration
	userAgent string
}

// New returns a Client for cfg. It fails when the secret key is missing or
// malformed or the base URL is not an absolute http(s) URL.
func New(cfg Config) (*Client, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("clerk: Config.SecretKey is empty")
	}
	if strings.ContainsFunc(cfg.SecretKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("clerk: Config.SecretKey contains whitespace or control characters")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("clerk: Config.BaseURL %q is not an absolute http(s) URL without query", base)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Transport: NewTransport(),
			// Clerk does not redirect; a redirect is answered as the
			// 3xx *Error it is, never followed with the key.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "clerkmigrate/" + buildVersion()
	}
	return &Client{
		baseURL:   strings.TrimSuffix(u.String(), "/"),
		basePath:  strings.TrimSuffix(u.EscapedPath(), "/"),
		auth:      "Bearer " + cfg.SecretKey,
		keyKind:   redactKey(cfg.SecretKey),
		http:      hc,
		timeout:   timeout,
		userAgent: ua,
	}, nil
}

// NewTransport returns the http.Transport New uses when Config.HTTPClient
// is nil: keep-alive connections to one host, enough idle connections kept
// for a few hundred concurrent requests, bounded dial and TLS handshake.
func NewTransport() *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	return t
}

// buildVersion is the module version the binary was built from, or "dev".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}

// BaseURL returns the API root requests are sent to.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the Client without its secret key.
func (c Client) String() string {
	return fmt.Sprintf("clerk.Client{BaseURL:%q SecretKey:%s Timeout:%s UserAgent:%q}",
		c.baseURL, c.keyKind, c.timeout, c.userAgent)
}

// GoString is String, so that %#v redacts the key too.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb, so that no verb reaches the
// unexported key through reflection.
func (c Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue logs the Client without its secret key.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.baseURL),
		slog.String("secret_key", c.keyKind),
		slog.Duration("timeout", c.timeout),
	)
}

// call is one request: what to send and where to put the answer.
type call struct {
	method string
	path   string     // below the base URL, escaped: "/users/user_1"
	query  url.Values // nil for none
	in     any        // request body, JSON-encoded; nil for none
	out    any        // decoded from a 2xx body; nil to discard it
	// decode, when set, decodes a 2xx body instead of out.
	decode func([]byte) error
}

// do sends c and decodes its answer. See the package doc for the errors.
func (c *Client) do(ctx context.Context, cl call) error {
	fullPath := c.basePath + cl.path
	if err := ctx.Err(); err != nil {
		return &TransportError{Method: cl.method, Path: fullPath, Sent: false, Canceled: true, Err: err}
	}
	var body io.Reader
	var bodyBytes []byte
	if cl.in != nil {
		var b []byte
		var err error
		if a, ok := cl.in.(jsonAppender); ok {
			b, err = a.AppendJSON(make([]byte, 0, 512))
		} else {
			b, err = json.Marshal(cl.in)
		}
		if err != nil {
			return &RequestError{Method: cl.method, Path: fullPath, Err: fmt.Errorf("encode request body: %w", err)}
		}
		bodyBytes = b
		body = bytes.NewReader(b)
	}
	target := c.baseURL + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}

	reqCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(reqCtx, cl.method, target, body)
	if err != nil {
		return &RequestError{Method: cl.method, Path: fullPath, Err: err}
	}
	if body == nil {
		req.Body = noReplay()
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Clerk-API-Version", APIVersion)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if bodyBytes != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, cl.method, fullPath, err)
	}
	respBody, readErr := readBody(resp.Body, resp.ContentLength)
	if readErr != nil && readErr != errBodyTooLarge {
		readErr = c.transportError(ctx, cl.method, fullPath, readErr)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The status decides; a truncated error body only loses details.
		if te, ok := readErr.(*TransportError); ok && te.Canceled {
			return te
		}
		return parseError(cl.method, fullPath, resp, respBody)
	}
	if readErr != nil {
		if te, ok := readErr.(*TransportError); ok {
			return te
		}
		return &TransportError{Method: cl.method, Path: fullPath, Sent: true, Err: readErr}
	}
	if cl.out == nil && cl.decode == nil {
		return nil
	}
	decode := cl.decode
	if decode == nil {
		decode = func(b []byte) error { return json.Unmarshal(b, cl.out) }
	}
	if err := decode(respBody); err != nil {
		// Clerk answered 2xx: the change may well have been applied.
		return &TransportError{Method: cl.method, Path: fullPath, Sent: true,
			Err: fmt.Errorf("decode %d response (%s): %w", resp.StatusCode, contentType(resp), err)}
	}
	return nil
}

// jsonAppender is a request body that writes its own JSON, as json.Marshal
// would (request.CreateUser).
type jsonAppender interface {
	AppendJSON([]byte) ([]byte, error)
}

// noReplay is the body of a request that has none: empty, without
// GetBody. net/http's Transport sends a request again on its own when a
// reused connection breaks, if the request "has no body or has its
// Request.GetBody defined" and is a GET: that second request would reach
// Clerk, count against the instance's budget and pass no pacer. A body
// without GetBody turns that off; the Transport finds it empty and sends
// a plain request without one. Every retry is the caller's to decide.
func noReplay() io.ReadCloser { return io.NopCloser(strings.NewReader("")) }

var errBodyTooLarge = fmt.Errorf("response body exceeds %d bytes", MaxResponseBody)

// readBody reads at most MaxResponseBody bytes (into a buffer sized by
// contentLength when it is known), then drains a little more and closes the
// body so that the connection can be reused.
func readBody(rc io.ReadCloser, contentLength int64) ([]byte, error) {
	defer rc.Close()
	var buf bytes.Buffer
	if contentLength > 0 && contentLength <= MaxResponseBody {
		buf.Grow(int(contentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(rc, MaxResponseBody+1))
	b := buf.Bytes()
	if err != nil {
		return b, err
	}
	if len(b) > MaxResponseBody {
		return b[:MaxResponseBody], errBodyTooLarge
	}
	io.Copy(io.Discard, io.LimitReader(rc, maxDrain))
	return b, nil
}

func contentType(resp *http.Response) string {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "no content type"
}

// transportError wraps a failure to get an answer. The caller's ctx (not
// the per-request timeout) decides Canceled; Sent is false only for
// failures that happen before a connection exists.
func (c *Client) transportError(ctx context.Context, method, path string, err error) *TransportError {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry query values (email addresses); Path is enough
	}
	if ctx.Err() != nil {
		return &TransportError{Method: method, Path: path, Sent: !neverSent(err), Canceled: true, Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s: %w", c.timeout, err)
	}
	return &TransportError{Method: method, Path: path, Sent: !neverSent(err), Err: err}
}

// neverSent reports whether err certainly happened before any byte of the
// request reached the server: a failed dial (refused, unreachable, DNS) or a
// failed TLS handshake.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return true
	}
	var unknownAuth x509.UnknownAuthorityError
	if errors.As(err, &unknownAuth) {
		return true
	}
	var hostname x509.HostnameError
	return errors.As(err, &hostname)
}

// errorBody is Clerk's ClerkErrors body.
type errorBody struct {
	Errors  []ErrorDetail `json:"errors"`
	TraceID string        `json:"clerk_trace_id"`
}

// parseError builds the *Error for a non-2xx answer. A body that is not
// ClerkErrors JSON yields an Error with its status and no details.
func parseError(method, path string, resp *http.Response, body []byte) *Error {
	e := &Error{
		Method:     method,
		Path:       path,
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var eb errorBody
		if json.Unmarshal(trimmed, &eb) == nil {
			e.Details = eb.Errors
			e.TraceID = eb.TraceID
		}
	}
	return e
}

// parseRetryAfter reads a Retry-After header: delta-seconds or an
// HTTP-date. It returns 0 when the header is absent, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// userPath is the escaped path of a user, or a *RequestError for an empty id.
func (c *Client) userPath(method, id, suffix string) (string, error) {
	if id == "" {
		return "", &RequestError{Method: method, Path: c.basePath + "/users/{user_id}" + suffix, Err: errors.New("user id is empty")}
	}
	return "/users/" + url.PathEscape(id) + suffix, nil
}

// GetInstance reads the instance the secret key belongs to (GET
// /v1/instance): its id and environment type. An answer without an id is a
// *TransportError: nothing could tell the instance apart.
func (c *Client) GetInstance(ctx context.Context) (*Instance, error) {
	var in Instance
	if err := c.do(ctx, call{method: http.MethodGet, path: "/instance", out: &in}); err != nil {
		return nil, err
	}
	if in.ID == "" {
		return nil, &TransportError{Method: http.MethodGet, Path: c.basePath + "/instance", Sent: true,
			Err: errors.New("answer has no instance id")}
	}
	return &in, nil
}

// CreateUser creates a user (POST /v1/users). Clerk answers 200 with the
// new User, of which CreateUser decodes what its callers read: id, object,
// external_id, created_at and updated_at (the rest of the returned User is
// zero). The importer sends one create per row and reads only the id, so
// decoding the whole answer (addresses, verifications, metadata) was a
// sixth of its CPU per row; GetUser and ListUsers decode every field.
func (c *Client) CreateUser(ctx context.Context, p *request.CreateUser) (*User, error) {
	if p == nil {
		p = &request.CreateUser{}
	}
	var u createdUser
	decode := func(b []byte) error { return decodeCreated(b, &u) }
	if err := c.do(ctx, call{method: http.MethodPost, path: "/users", in: p, decode: decode}); err != nil {
		return nil, err
	}
	return &User{ID: u.ID, Object: u.Object, ExternalID: u.ExternalID, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, nil
}

// GetUser returns the user with id (GET /v1/users/{id}); a missing user is
// an *Error with Status 404 and code resource_not_found.
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	return c.userCall(ctx, http.MethodGet, id, "", nil)
}

// ListUsers returns one page of users (GET /v1/users), newest first unless
// p.OrderBy says otherwise. Array filters are sent in the spec's form style
// with explode: email_address=a&email_address=b.
func (c *Client) ListUsers(ctx context.Context, p ListUsersParams) ([]User, error) {
	q, err := p.query(true)
	if err != nil {
		return nil, &RequestError{Method: http.MethodGet, Path: c.basePath + "/users", Err: err}
	}
	var users []User
	if err := c.do(ctx, call{method: http.MethodGet, path: "/users", query: q, out: &users}); err != nil {
		return nil, err
	}
	return users, nil
}

// CountUsers returns how many users match p's filters (GET
// /v1/users/count). Limit, Offset, OrderBy and StartingAfter must be zero:
// the count endpoint does not take them.
func (c *Client) CountUsers(ctx context.Context, p ListUsersParams) (int64, error) {
	q, err := p.query(false)
	if err != nil {
		return 0, &RequestError{Method: http.MethodGet, Path: c.basePath + "/users/count", Err: err}
	}
	var tc struct {
		Object     string `json:"object"`
		TotalCount *int64 `json:"total_count"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/users/count", query: q, out: &tc}); err != nil {
		return 0, err
	}
	if tc.TotalCount == nil {
		return 0, &TransportError{Method: http.MethodGet, Path: c.basePath + "/users/count", Sent: true,
			Err: errors.New("answer has no total_count")}
	}
	return *tc.TotalCount, nil
}

// query encodes the parameters; page is false for /users/count, which takes
// the filters only.
func (p ListUsersParams) query(page bool) (url.Values, error) {
	q := url.Values{}
	for _, f := range []struct {
		name   string
		values []string
	}{
		{"email_address", p.EmailAddress},
		{"phone_number", p.PhoneNumber},
		{"external_id", p.ExternalID},
		{"username", p.Username},
		{"web3_wallet", p.Web3Wallet},
		{"user_id", p.UserID},
	} {
		if len(f.values) > maxFilterValues {
			return nil, fmt.Errorf("%s has %d values; Clerk accepts at most %d", f.name, len(f.values), maxFilterValues)
		}
		for _, v := range f.values {
			q.Add(f.name, v)
		}
	}
	if p.Query != "" {
		q.Set("query", p.Query)
	}
	if !page {
		if p.Limit != 0 || p.Offset != 0 || p.OrderBy != "" || p.StartingAfter != "" {
			return nil, errors.New("users/count takes no limit, offset, order_by or starting_after")
		}
		return q, nil
	}
	switch {
	case p.Limit < 0 || p.Limit > maxLimit:
		return nil, fmt.Errorf("limit %d is outside 1..%d", p.Limit, maxLimit)
	case p.Offset < 0:
		return nil, fmt.Errorf("offset %d is negative", p.Offset)
	case p.StartingAfter != "" && p.Offset != 0:
		return nil, errors.New("starting_after cannot be combined with a non-zero offset")
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset > 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	if p.OrderBy != "" {
		q.Set("order_by", p.OrderBy)
	}
	if p.StartingAfter != "" {
		q.Set("starting_after", p.StartingAfter)
	}
	return q, nil
}

// UpdateUser changes a user's attributes (PATCH /v1/users/{id}). Since
// 2026-05-12 it takes no metadata: use UpdateUserMetadata or
// ReplaceUserMetadata. Clerk limits it to 10 requests per 10 s per user.
func (c *Client) UpdateUser(ctx context.Context, id string, p *UpdateUserParams) (*User, error) {
	if p == nil {
		p = &UpdateUserParams{}
	}
	return c.userCall(ctx, http.MethodPatch, id, "", p)
}

// UpdateUserMetadata deep-merges p into the user's metadata (PATCH
// /v1/users/{id}/metadata): a key set to nil is sent as null and removed.
func (c *Client) UpdateUserMetadata(ctx context.Context, id string, p *MetadataParams) (*User, error) {
	if p == nil {
		p = &MetadataParams{}
	}
	return c.userCall(ctx, http.MethodPatch, id, "/metadata", p)
}

// ReplaceUserMetadata replaces each metadata field p sets (PUT
// /v1/users/{id}/metadata); fields p leaves nil are unchanged.
func (c *Client) ReplaceUserMetadata(ctx context.Context, id string, p *MetadataParams) (*User, error) {
	if p == nil {
		p = &MetadataParams{}
	}
	return c.userCall(ctx, http.MethodPut, id, "/metadata", p)
}

// DeleteUser deletes the user with id (DELETE /v1/users/{id}).
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	path, err := c.userPath(http.MethodDelete, id, "")
	if err != nil {
		return err
	}
	var deleted struct {
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}
	return c.do(ctx, call{method: http.MethodDelete, path: path, out: &deleted})
}

// BanUser bans the user (POST /v1/users/{id}/ban): their sessions are
// revoked and they cannot sign in.
func (c *Client) BanUser(ctx context.Context, id string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, id, "/ban", nil)
}

// MaxBulkBan is the most user ids one POST /v1/users/ban takes (the
// spec's maxItems).
const MaxBulkBan = 50

// BanUsers bans 1 to MaxBulkBan users in one request (POST /v1/users/ban,
// UsersBan) and returns the users Clerk answers with. Banning a banned
// user again is harmless, so the request may be sent again.
func (c *Client) BanUsers(ctx context.Context, ids []string) ([]User, error) {
	if len(ids) == 0 || len(ids) > MaxBulkBan {
		return nil, fmt.Errorf("clerk: BanUsers takes 1 to %d user ids, not %d", MaxBulkBan, len(ids))
	}
	for _, id := range ids {
		if id == "" {
			return nil, errors.New("clerk: BanUsers: an empty user id")
		}
	}
	var us []User
	in := struct {
		UserIDs []string `json:"user_ids"`
	}{ids}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/users/ban", in: in, out: &us}); err != nil {
		return nil, err
	}
	return us, nil
}

// UnbanUser lifts a ban (POST /v1/users/{id}/unban).
func (c *Client) UnbanUser(ctx context.Context, id string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, id, "/unban", nil)
}

// LockUser locks the user (POST /v1/users/{id}/lock).
func (c *Client) LockUser(ctx context.Context, id string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, id, "/lock", nil)
}

// UnlockUser unlocks the user (POST /v1/users/{id}/unlock).
func (c *Client) UnlockUser(ctx context.Context, id string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, id, "/unlock", nil)
}

// userCall sends a request about one user and decodes the User answered.
func (c *Client) userCall(ctx context.Context, method, id, suffix string, in any) (*User, error) {
	path, err := c.userPath(method, id, suffix)
	if err != nil {
		return nil, err
	}
	var u User
	if err := c.do(ctx, call{method: method, path: path, in: in, out: &u}); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateEmailAddress adds an email address to a user (POST
// /v1/email_addresses).
func (c *Client) CreateEmailAddress(ctx context.Context, p CreateEmailAddressParams) (*EmailAddress, error) {
	if p.UserID == "" || p.EmailAddress == "" {
		return nil, &RequestError{Method: http.MethodPost, Path: c.basePath + "/email_addresses",
			Err: errors.New("user_id and email_address are required")}
	}
	var e EmailAddress
	if err := c.do(ctx, call{method: http.MethodPost, path: "/email_addresses", in: p, out: &e}); err != nil {
		return nil, err
	}
	return &e, nil
}

// CreatePhoneNumber adds a phone number to a user (POST /v1/phone_numbers).
func (c *Client) CreatePhoneNumber(ctx context.Context, p CreatePhoneNumberParams) (*PhoneNumber, error) {
	if p.UserID == "" || p.PhoneNumber == "" {
		return nil, &RequestError{Method: http.MethodPost, Path: c.basePath + "/phone_numbers",
			Err: errors.New("user_id and phone_number are required")}
	}
	var n PhoneNumber
	if err := c.do(ctx, call{method: http.MethodPost, path: "/phone_numbers", in: p, out: &n}); err != nil {
		return nil, err
	}
	return &n, nil
}

// DeletedObject is Clerk's answer to a DELETE: the object's kind, its id
// and deleted true.
type DeletedObject struct {
	Object  string `json:"object"`
	ID      string `json:"id,omitempty"`
	Deleted bool   `json:"deleted"`
}

// DeleteEmailAddress deletes an email address (DELETE
// /v1/email_addresses/{email_address_id}); Clerk answers 200 with a
// DeletedObject. An unknown id is an *Error with Status 404. Clerk refuses
// to delete a user's primary address: make another one primary first.
func (c *Client) DeleteEmailAddress(ctx context.Context, id string) error {
	return c.deleteIdentifier(ctx, "/email_addresses", "{email_address_id}", id)
}

// DeletePhoneNumber deletes a phone number (DELETE
// /v1/phone_numbers/{phone_number_id}); as DeleteEmailAddress.
func (c *Client) DeletePhoneNumber(ctx context.Context, id string) error {
	return c.deleteIdentifier(ctx, "/phone_numbers", "{phone_number_id}", id)
}

// deleteIdentifier sends DELETE collection/id and checks the DeletedObject.
func (c *Client) deleteIdentifier(ctx context.Context, collection, param, id string) error {
	if id == "" {
		return &RequestError{Method: http.MethodDelete, Path: c.basePath + collection + "/" + param, Err: errors.New("id is empty")}
	}
	path := collection + "/" + url.PathEscape(id)
	var d DeletedObject
	if err := c.do(ctx, call{method: http.MethodDelete, path: path, out: &d}); err != nil {
		return err
	}
	if !d.Deleted {
		return &TransportError{Method: http.MethodDelete, Path: c.basePath + path, Sent: true,
			Err: errors.New("answer says deleted false")}
	}
	return nil
}
