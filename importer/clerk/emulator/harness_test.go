package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/spectest"
)

const testKey = "sk_test_emulator"

// harness is an Emulator on a loopback httptest server whose /v1 traffic
// is validated against the spec.
type harness struct {
	t      *testing.T
	emu    *Emulator
	srv    *httptest.Server
	v      *spectest.Validator
	client *http.Client
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	v := spectest.Load(t)
	if cfg.RequestsPerWindow == 0 {
		cfg.RequestsPerWindow = 1 << 30
	}
	e := New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/__emulator/", e)
	mux.Handle("/", v.Handler(t, e))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{t: t, emu: e, srv: srv, v: v, client: srv.Client()}
}

// response is an answer as read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the test key and the API version.
func (h *harness) do(method, path string, body any) response {
	h.t.Helper()
	resp, err := h.send(method, path, body, map[string]string{"Authorization": "Bearer " + testKey, "Clerk-API-Version": clerk.APIVersion})
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// send sends a request with the given headers; body is a string (sent as
// is) or a value (sent as JSON). A header given as "" is removed.
func (h *harness) send(method, path string, body any, headers map[string]string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: raw}
	h.checkDocumented(method, path, r)
	return r, err
}

// checkDocumented requires every error code of an error answer to be one
// Clerk documents, with the status Clerk documents for it.
func (h *harness) checkDocumented(method, path string, r response) {
	h.t.Helper()
	if r.status < 400 {
		return
	}
	var b struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.body, &b) != nil {
		return // an injected HTML 502
	}
	for _, e := range b.Errors {
		if status, ok := clerk.DocumentedCode(e.Code); !ok || status != r.status {
			h.t.Errorf("%s %s answered %d %s: Clerk documents this code with status %d (known: %v)", method, path, r.status, e.Code, status, ok)
		}
	}
}

// create posts a CreateUser body and requires a 200; it returns the user.
func (h *harness) create(body map[string]any) map[string]any {
	h.t.Helper()
	r := h.do("POST", "/v1/users", body)
	if r.status != http.StatusOK {
		h.t.Fatalf("create %v: %d %s", body, r.status, r.body)
	}
	return r.object(h.t)
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (r response) array(t *testing.T) []map[string]any {
	t.Helper()
	var a []map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return a
}

// apiErr is the first ClerkError of a body, as "code/param".
func (r response) apiErr(t *testing.T) string {
	t.Helper()
	var b struct {
		Errors []struct {
			Code string `json:"code"`
			Meta struct {
				ParamName string `json:"param_name"`
			} `json:"meta"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || len(b.Errors) == 0 {
		t.Fatalf("not a ClerkErrors body (%d): %q", r.status, r.body)
	}
	return fmt.Sprintf("%s/%s", b.Errors[0].Code, b.Errors[0].Meta.ParamName)
}

// expectError requires status and the first error's code/param.
func (r response) expectError(t *testing.T, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if got := r.apiErr(t); got != want {
		t.Fatalf("error %s, want %s", got, want)
	}
}

// jsonOf marshals v compactly, keys sorted.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
