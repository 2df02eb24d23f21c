// Package spectest checks HTTP traffic against Clerk's OpenAPI spec
// (shared/clerk-openapi/bapi.yml) in tests: requests a client sends, and
// requests and responses a server (the emulator) handles.
//
// A test gets a Validator with Load, then wraps a client's transport with
// Transport or a server's handler with Handler. Every violation is reported
// with t.Errorf, naming the method, the path and what is wrong; Count tells
// how many requests were validated, so a test can assert that validation
// really ran.
//
// The spec is loaded once per process. It is found through the environment
// variable CLERK_OPENAPI_SPEC, or by walking up from the working directory
// to an ancestor that holds shared/clerk-openapi/bapi.yml. When it cannot be
// found, Load skips the test, unless CI=true, where it fails it.
package spectest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// EnvSpecPath names the environment variable that points at bapi.yml.
const EnvSpecPath = "CLERK_OPENAPI_SPEC"

// specRelPath is where the spec sits relative to the directory that holds
// both the repository and shared/.
const specRelPath = "shared/clerk-openapi/bapi.yml"

// maxBody bounds how much of a body the validator reads (the API's bodies
// are far smaller).
const maxBody = 16 << 20

// spec is the loaded document and its router, shared by every Validator.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	path   string
}

var (
	loadOnce   sync.Once
	loaded     *spec
	loadErr    error
	notFound   bool
	searchPath string
)

// Validator validates requests and responses against the spec. Each Load
// returns its own Validator (sharing the parsed spec), so that its counters
// belong to one test. It is safe for concurrent use.
type Validator struct {
	spec      *spec
	requests  atomic.Int64
	responses atomic.Int64
}

// Load returns a Validator over bapi.yml, loading the spec on first use.
// It skips t when the spec cannot be found (fails it when CI=true), and
// fails t when the spec is found but does not load.
func Load(t testing.TB) *Validator {
	t.Helper()
	loadOnce.Do(loadSpec)
	if notFound {
		msg := fmt.Sprintf("spectest: Clerk OpenAPI spec not found (set %s, or put %s beside the repository; searched from %s)",
			EnvSpecPath, specRelPath, searchPath)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if loadErr != nil {
		t.Fatalf("spectest: %v", loadErr)
	}
	return &Validator{spec: loaded}
}

// SpecPath returns the file the spec was loaded from.
func (v *Validator) SpecPath() string { return v.spec.path }

// Doc returns the loaded spec, with Servers overridden to "/v1". Callers
// must not modify it.
func (v *Validator) Doc() *openapi3.T { return v.spec.doc }

// Count returns how many requests this Validator has validated (passed or
// not) through ValidateRequest, Transport or Handler.
func (v *Validator) Count() int64 { return v.requests.Load() }

// ResponseCount returns how many responses this Validator has validated.
func (v *Validator) ResponseCount() int64 { return v.responses.Load() }

func loadSpec() {
	path, err := findSpec()
	if err != nil {
		notFound = true
		return
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		loadErr = fmt.Errorf("load %s: %w", path, err)
		return
	}
	if err := doc.Validate(context.Background()); err != nil {
		loadErr = fmt.Errorf("validate %s: %w", path, err)
		return
	}
	// Route loopback requests: the spec's only server is https://api.clerk.com/v1.
	doc.Servers = openapi3.Servers{{URL: "/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		loadErr = fmt.Errorf("router for %s: %w", path, err)
		return
	}
	loaded = &spec{doc: doc, router: router, path: path}
}

// findSpec looks for bapi.yml: $CLERK_OPENAPI_SPEC, else shared/... or
// ../shared/... relative to the working directory or any of its ancestors.
func findSpec() (string, error) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			searchPath = p
			return "", err
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	searchPath = dir
	for {
		for _, rel := range []string{specRelPath, filepath.Join("..", specRelPath)} {
			p := filepath.Join(dir, rel)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return filepath.Clean(p), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// options are the filter options used for every validation.
func options() *openapi3filter.Options {
	o := &openapi3filter.Options{
		AuthenticationFunc:                authenticate,
		SkipSettingDefaults:               true,
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
	}
	o.WithCustomSchemaErrorFunc(schemaErrorMessage)
	return o
}

// schemaErrorMessage says where and why a value fails its schema, without
// kin-openapi's dump of the whole schema and value (the value may hold a
// password).
func schemaErrorMessage(err *openapi3.SchemaError) string {
	var b strings.Builder
	if p := err.JSONPointer(); len(p) > 0 {
		fmt.Fprintf(&b, "at %q: ", "/"+strings.Join(p, "/"))
	}
	switch {
	case err.Origin != nil:
		b.WriteString(err.Origin.Error())
	case err.Reason != "":
		b.WriteString(err.Reason)
	default:
		fmt.Fprintf(&b, "doesn't match schema %q", err.SchemaField)
	}
	return b.String()
}

// authenticate accepts any "Authorization: Bearer <token>" with a non-empty
// token for the spec's bearerAuth scheme; the server, not the spec, decides
// whether the key is good.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return fmt.Errorf("unsupported security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New(`missing "Authorization: Bearer <secret key>" header`)
	}
	return nil
}

// route finds the operation for req, or says why there is none.
func (v *Validator) route(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.spec.router.FindRoute(req)
	if err != nil {
		return nil, nil, fmt.Errorf("no operation in the spec for %s %s: %w", req.Method, req.URL.Path, err)
	}
	return route, params, nil
}

// routes reports whether the spec has an operation for req.
func (v *Validator) routes(req *http.Request) bool {
	_, _, err := v.spec.router.FindRoute(req)
	return err == nil
}

// ValidateRequest checks req, whose body is body (req.Body is not read),
// against the spec: the route and method exist, the bearer header is
// present, path and query parameters match (and no query parameter the
// operation does not declare is sent), and the body matches the schema.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	v.requests.Add(1)
	in, err := v.requestInput(req, body)
	if err != nil {
		return err
	}
	var errs []error
	if err := unknownQueryParams(in.Route, req.URL.Query()); err != nil {
		errs = append(errs, err)
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// requestInput builds the filter input over a copy of req carrying body.
func (v *Validator) requestInput(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := v.route(req)
	if err != nil {
		return nil, err
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = nil
	return &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    options(),
	}, nil
}

// unknownQueryParams reports query parameters the operation does not
// declare (kin-openapi ignores them; Clerk may not).
func unknownQueryParams(route *routers.Route, q url.Values) error {
	if len(q) == 0 {
		return nil
	}
	declared := map[string]bool{}
	for _, ps := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared[p.Value.Name] = true
			}
		}
	}
	var unknown []string
	for name := range q {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("query parameter(s) not declared by %s: %s", route.Operation.OperationID, strings.Join(unknown, ", "))
}

// ValidateResponse checks a response of the given status, header and body
// to req (whose body was body) against the spec. Statuses the operation does
// not document are accepted (Clerk answers 429 and 5xx on every route).
func (v *Validator) ValidateResponse(req *http.Request, body []byte, status int, header http.Header, respBody []byte) error {
	v.responses.Add(1)
	in, err := v.requestInput(req, body)
	if err != nil {
		return err
	}
	if header == nil {
		header = http.Header{}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                in.Options,
	}
	out.SetBodyBytes(respBody)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// validatedStatus reports whether Transport and Handler validate a
// response of this status: 2xx and 4xx.
func validatedStatus(status int) bool {
	return (status >= 200 && status < 300) || (status >= 400 && status < 500)
}

// Transport returns a RoundTripper that sends through base (or
// http.DefaultTransport when nil) and validates every request it sends and
// every 2xx or 4xx response it receives, reporting violations with
// t.Errorf. The response body handed back is a full in-memory copy.
func (v *Validator) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{v: v, t: t, base: base}
}

type transport struct {
	v    *Validator
	t    testing.TB
	base http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	if err := tr.v.ValidateRequest(req, body); err != nil {
		tr.t.Errorf("spectest: request %s %s violates the spec: %v", req.Method, req.URL.Path, err)
	}
	sent := req
	if req.Body != nil && req.Body != http.NoBody {
		// The copy replays like the original: with GetBody only if it had one.
		sent = req.Clone(req.Context())
		sent.Body = io.NopCloser(bytes.NewReader(body))
		if req.GetBody != nil {
			sent.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	}
	resp, err := tr.base.RoundTrip(sent)
	if err != nil || !validatedStatus(resp.StatusCode) || !tr.v.routes(req) {
		return resp, err
	}
	respBody, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if readErr != nil {
		// Hand the failure to the caller as it happened.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), errReader{readErr}))
		return resp, nil
	}
	if err := tr.v.ValidateResponse(req, body, resp.StatusCode, resp.Header, respBody); err != nil {
		tr.t.Errorf("spectest: response %d to %s %s violates the spec: %v", resp.StatusCode, req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// requestBody reads and closes req.Body (a RoundTripper must close it);
// the request that is sent carries a copy.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("spectest: read request body: %w", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// Handler returns h wrapped so that every request h accepted (answered
// 2xx) is validated, and every response h wrote with a JSON content type or a
// body (2xx or 4xx, on a route the spec has) is validated, reporting violations with t.Errorf. Requests h refused are not
// validated: refusing bad requests is the server's job, and its tests send
// bad requests on purpose.
func (v *Validator) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			body, err = io.ReadAll(io.LimitReader(r.Body, maxBody))
			r.Body.Close()
			if err != nil {
				t.Errorf("spectest: read request body of %s %s: %v", r.Method, r.URL.Path, err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if status >= 200 && status < 300 {
			if err := v.ValidateRequest(r, body); err != nil {
				t.Errorf("spectest: handler accepted %s %s (%d), which violates the spec: %v", r.Method, r.URL.Path, status, err)
			}
		}
		if validatedStatus(status) && v.routes(r) && (isJSON(rec.Header().Get("Content-Type")) || rec.body.Len() > 0) {
			if err := v.ValidateResponse(r, body, status, rec.Header(), rec.body.Bytes()); err != nil {
				t.Errorf("spectest: response %d to %s %s violates the spec: %v", status, r.Method, r.URL.Path, err)
			}
		}
	})
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// recorder passes writes through and keeps a copy of the status and body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len() < maxBody {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

// Flush forwards to the underlying writer when it can flush.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
