package clerk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// answering returns a client whose server answers every request with h.
func answering(t *testing.T, h http.HandlerFunc) *clerk.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := clerk.New(clerk.Config{BaseURL: srv.URL + "/v1", SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func respond(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

func TestErrorParsing(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantCodes  []string
		wantParam  string
		wantTrace  string
		retryAfter [2]time.Duration // accepted range
		wantText   string           // substring of Error()
	}{
		{
			name: "JSON errors with param_name and trace id", status: 422, header: jsonCT,
			body: `{"errors":[{"code":"form_identifier_exists","message":"taken","long_message":"That email address is taken.","meta":{"param_name":"email_address"}},` +
				`{"code":"form_param_format_invalid","message":"bad","long_message":"bad phone","meta":{"param_name":"phone_number"}}],"clerk_trace_id":"trace-abc"}`,
			wantCodes: []string{"form_identifier_exists", "form_param_format_invalid"}, wantParam: "email_address", wantTrace: "trace-abc",
			wantText: "422: form_identifier_exists (email_address): That email address is taken.; form_param_format_invalid (phone_number): bad phone [trace trace-abc]",
		},
		{
			name: "HTML 502 from a proxy", status: 502, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>", wantText: "POST /v1/users: 502",
		},
		{
			name: "429 with Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "7", "Content-Type": "application/json"},
			body:      `{"errors":[{"code":"too_many_requests","message":"Too many requests","long_message":"Too many requests, retry later"}]}`,
			wantCodes: []string{"too_many_requests"}, retryAfter: [2]time.Duration{7 * time.Second, 7 * time.Second},
		},
		{
			name: "429 with Retry-After date", status: 429,
			header:     map[string]string{"Retry-After": now.Add(30 * time.Second).UTC().Format(http.TimeFormat)},
			retryAfter: [2]time.Duration{15 * time.Second, 31 * time.Second}, // wide: the date has whole seconds and a loaded machine is slow
		},
		{
			name: "Retry-After in the past", status: 503,
			header: map[string]string{"Retry-After": now.Add(-time.Hour).UTC().Format(http.TimeFormat)},
		},
		{name: "Retry-After garbage", status: 429, header: map[string]string{"Retry-After": "soon"}},
		{name: "empty body", status: 500, wantText: "POST /v1/users: 500"},
		{name: "error body over the size bound", status: 503, body: strings.Repeat("<p>", clerk.MaxResponseBody)},
		{name: "JSON that is not ClerkErrors", status: 400, header: jsonCT, body: `["x"]`},
		{name: "truncated JSON", status: 400, header: jsonCT, body: `{"errors":[{"code":"form_`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := answering(t, respond(tc.status, tc.header, tc.body))
			_, err := c.CreateUser(context.Background(), &request.CreateUser{ExternalID: request.Value("x")})
			var ae *clerk.Error
			if !errors.As(err, &ae) {
				t.Fatalf("want *clerk.Error, got %T %v", err, err)
			}
			if ae.Status != tc.status || ae.Method != "POST" || ae.Path != "/v1/users" {
				t.Errorf("got %s %s %d", ae.Method, ae.Path, ae.Status)
			}
			if got := ae.Codes(); strings.Join(got, ",") != strings.Join(tc.wantCodes, ",") {
				t.Errorf("codes = %v, want %v", got, tc.wantCodes)
			}
			if ae.Param() != tc.wantParam || ae.TraceID != tc.wantTrace {
				t.Errorf("param %q trace %q", ae.Param(), ae.TraceID)
			}
			if ae.RetryAfter < tc.retryAfter[0] || ae.RetryAfter > tc.retryAfter[1] {
				t.Errorf("RetryAfter = %s, want %s..%s", ae.RetryAfter, tc.retryAfter[0], tc.retryAfter[1])
			}
			if len(tc.wantCodes) == 0 && ae.Code() != fmt.Sprintf("http_%d", tc.status) {
				t.Errorf("Code() = %q", ae.Code())
			}
			if !strings.Contains(ae.Error(), tc.wantText) {
				t.Errorf("Error() = %q, want it to contain %q", ae.Error(), tc.wantText)
			}
		})
	}
}

func TestIdentifierExists(t *testing.T) {
	c := answering(t, respond(422, jsonCT,
		`{"errors":[{"code":"form_identifier_exists","message":"m","long_message":"lm","meta":{"param_name":"external_id"}}]}`))
	_, err := c.CreateUser(context.Background(), &request.CreateUser{ExternalID: request.Value("x")})
	var ae *clerk.Error
	if !errors.As(err, &ae) {
		t.Fatal(err)
	}
	if p, ok := ae.IdentifierExists(); !ok || p != "external_id" {
		t.Errorf("IdentifierExists = %q %v", p, ok)
	}
}

func TestClassifyStatuses(t *testing.T) {
	tests := []struct {
		status       int
		body         string
		want         clerk.Class
		maybeApplied bool
	}{
		{401, `{"errors":[{"code":"authentication_invalid","message":"m","long_message":"lm"}]}`, clerk.Fatal, false},
		{403, `{"errors":[{"code":"authorization_invalid","message":"m","long_message":"lm"}]}`, clerk.Fatal, false},
		{403, `{"errors":[{"code":"user_quota_exceeded","message":"m","long_message":"lm"}]}`, clerk.Fatal, false},
		{422, `{"errors":[{"code":"quota_exceeded","message":"m","long_message":"lm"}]}`, clerk.Fatal, false},
		{422, `{"errors":[{"code":"form_password_digest_invalid_code","message":"m","long_message":"lm"}]}`, clerk.Permanent, false},
		{400, `{"errors":[{"code":"form_param_unknown","message":"m","long_message":"lm"}]}`, clerk.Permanent, false},
		{404, `{"errors":[{"code":"resource_not_found","message":"m","long_message":"lm"}]}`, clerk.Permanent, false},
		{409, `{"errors":[{"code":"conflict","message":"m","long_message":"lm"}]}`, clerk.Permanent, false},
		{408, ``, clerk.Retry, false},
		{429, `{"errors":[{"code":"too_many_requests","message":"m","long_message":"lm"}]}`, clerk.Retry, false},
		{500, `{"errors":[{"code":"internal_clerk_error","message":"m","long_message":"lm"}]}`, clerk.Retry, true},
		{502, `<html>Bad Gateway</html>`, clerk.Retry, true},
		{503, ``, clerk.Retry, true},
		{504, `<html>Gateway Timeout</html>`, clerk.Retry, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %.40s", tc.status, tc.body), func(t *testing.T) {
			c := answering(t, respond(tc.status, nil, tc.body))
			_, err := c.CreateUser(context.Background(), &request.CreateUser{})
			if got := clerk.Classify(err); got != tc.want {
				t.Errorf("Classify = %v, want %v (err %v)", got, tc.want, err)
			}
			if got := clerk.MaybeApplied(err); got != tc.maybeApplied {
				t.Errorf("MaybeApplied = %v, want %v", got, tc.maybeApplied)
			}
		})
	}
}

// rawServer accepts connections and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(conn)
		}
	}()
	return "http://" + ln.Addr().String() + "/v1"
}

// readRequest reads one whole request from conn.
func readRequest(conn net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err == nil {
		io.Copy(io.Discard, req.Body)
	}
}

func TestClassifyTransportFailures(t *testing.T) {
	type want struct {
		class        clerk.Class
		sent         bool
		canceled     bool
		maybeApplied bool
	}
	tests := []struct {
		name    string
		baseURL func(t *testing.T) string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    want
	}{
		{
			name: "connection refused",
			baseURL: func(t *testing.T) string {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close()
				return "http://" + addr + "/v1"
			},
			want: want{class: clerk.Retry, sent: false, maybeApplied: false},
		},
		{
			name: "reset after the request was read",
			baseURL: func(t *testing.T) string {
				return rawServer(t, func(conn net.Conn) {
					readRequest(conn)
					conn.(*net.TCPConn).SetLinger(0) // RST instead of FIN
					conn.Close()
				})
			},
			want: want{class: clerk.Retry, sent: true, maybeApplied: true},
		},
		{
			name: "closed after the request without an answer",
			baseURL: func(t *testing.T) string {
				return rawServer(t, func(conn net.Conn) { readRequest(conn); conn.Close() })
			},
			want: want{class: clerk.Retry, sent: true, maybeApplied: true},
		},
		{
			name: "2xx body cut short",
			baseURL: func(t *testing.T) string {
				return rawServer(t, func(conn net.Conn) {
					readRequest(conn)
					io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"id\":\"user_1\",")
					conn.Close()
				})
			},
			want: want{class: clerk.Retry, sent: true, maybeApplied: true},
		},
		{
			name: "2xx body that is not JSON",
			baseURL: func(t *testing.T) string {
				srv := httptest.NewServer(respond(200, map[string]string{"Content-Type": "text/html"}, "<html>ok</html>"))
				t.Cleanup(srv.Close)
				return srv.URL + "/v1"
			},
			want: want{class: clerk.Retry, sent: true, maybeApplied: true},
		},
		{
			name: "per-request timeout",
			baseURL: func(t *testing.T) string {
				return rawServer(t, func(conn net.Conn) { readRequest(conn); time.Sleep(2 * time.Second); conn.Close() })
			},
			timeout: 100 * time.Millisecond,
			want:    want{class: clerk.Retry, sent: true, maybeApplied: true},
		},
		{
			name: "caller cancels while waiting",
			baseURL: func(t *testing.T) string {
				return rawServer(t, func(conn net.Conn) { readRequest(conn); time.Sleep(2 * time.Second); conn.Close() })
			},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: want{class: clerk.Canceled, sent: true, canceled: true, maybeApplied: true},
		},
		{
			name:    "caller's context already over",
			baseURL: func(t *testing.T) string { return "http://127.0.0.1:1/v1" },
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: want{class: clerk.Canceled, sent: false, canceled: true, maybeApplied: false},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := clerk.New(clerk.Config{BaseURL: tc.baseURL(t), SecretKey: testKey, Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			_, err = c.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("legacy-1")})
			var te *clerk.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("want *TransportError, got %T %v", err, err)
			}
			got := want{clerk.Classify(err), te.Sent, te.Canceled, clerk.MaybeApplied(err)}
			if got != tc.want {
				t.Errorf("got %+v, want %+v (err: %v)", got, tc.want, err)
			}
			if te.Method != "POST" || te.Path != "/v1/users" {
				t.Errorf("error names %s %s", te.Method, te.Path)
			}
		})
	}
}

// TestSecretKeyNeverPrinted: the key appears in no print of Config or
// Client, in no log record and in no error string.
func TestSecretKeyNeverPrinted(t *testing.T) {
	secretPart := strings.TrimPrefix(testKey, "sk_test_")
	cfg := clerk.Config{BaseURL: "http://127.0.0.1:1/v1", SecretKey: testKey, Timeout: time.Second}
	c, err := clerk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var prints []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %[1]v"} {
		for _, x := range []any{cfg, &cfg, c, *c, []any{cfg, c}, struct{ C clerk.Config }{cfg}} {
			prints = append(prints, fmt.Sprintf(verb, x))
		}
	}
	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("start", "config", cfg, "client", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("start", "config", cfg, "client", *c)
	prints = append(prints, logged.String())
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prints = append(prints, string(j))

	// Errors from every failure path.
	ctx := context.Background()
	_, err = c.GetUser(ctx, "user_1") // refused
	prints = append(prints, errorPrints(err)...)
	_, err = c.GetUser(ctx, "") // refused before sending
	prints = append(prints, errorPrints(err)...)
	_, err = clerk.New(clerk.Config{SecretKey: testKey + " ", BaseURL: "x"})
	prints = append(prints, errorPrints(err)...)
	for _, h := range []http.HandlerFunc{
		respond(401, jsonCT, `{"errors":[{"code":"authentication_invalid","message":"m","long_message":"lm"}]}`),
		respond(502, nil, "<html>bad gateway</html>"),
		respond(200, nil, "not json"),
	} {
		_, err := answering(t, h).GetUser(ctx, "user_1")
		prints = append(prints, errorPrints(err)...)
	}
	slow, err := clerk.New(clerk.Config{BaseURL: rawServer(t, func(conn net.Conn) { readRequest(conn); time.Sleep(time.Second); conn.Close() }),
		SecretKey: testKey, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = slow.GetUser(ctx, "user_1")
	prints = append(prints, errorPrints(err)...)

	for _, p := range prints {
		if strings.Contains(p, secretPart) || strings.Contains(p, fmt.Sprintf("%x", testKey)) {
			t.Errorf("secret key printed: %s", p)
		}
	}
	if !strings.Contains(fmt.Sprint(cfg), "sk_test_[redacted]") {
		t.Errorf("Config print does not say which kind of key is set: %v", cfg)
	}
}

func errorPrints(err error) []string {
	if err == nil {
		return []string{"<nil>"}
	}
	return []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
}
