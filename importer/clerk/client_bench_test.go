package clerk_test

import (
	"bytes"
	"context"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// cannedServer answers every request with one fixed, spec-valid User, so
// that a benchmark measures the client and the loopback HTTP round trip
// only (the server's share of CPU and allocations included: it runs in the
// same process).
func cannedServer(b *testing.B) *httptest.Server {
	body := []byte(userJSON("user_1"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchmarkParallel runs call from parallel goroutines (8 per CPU) and
// reports requests per second.
func benchmarkParallel(b *testing.B, call func(ctx context.Context, i int64) error) {
	b.Helper()
	b.ReportAllocs()
	b.SetParallelism(8)
	var n atomic.Int64
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(ctx, n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func benchClient(b testing.TB, baseURL string) *clerk.Client {
	c, err := clerk.New(clerk.Config{BaseURL: baseURL, SecretKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func createParams(i int64) *request.CreateUser {
	id := strconv.FormatInt(i, 10)
	return &request.CreateUser{
		ExternalID:      request.Value("legacy-" + id),
		FirstName:       request.Value("Ada"),
		LastName:        request.Value("Lovelace"),
		EmailAddresses:  []string{"user" + id + "@example.com"},
		PasswordDigest:  request.Value("$2a$10$abcdefghijklmnopqrstuu5Y0n1S2M5m0uVSi3Kq6aW8yqpvKx2hG"),
		PasswordHasher:  "bcrypt",
		PublicMetadata:  map[string]any{"plan": "pro"},
		PrivateMetadata: map[string]any{"legacy_id": id},
	}
}

// BenchmarkClientCreateUserCanned measures CreateUser against a server that
// answers a canned User (no emulator logic).
func BenchmarkClientCreateUserCanned(b *testing.B) {
	c := benchClient(b, cannedServer(b).URL+"/v1")
	benchmarkParallel(b, func(ctx context.Context, i int64) error {
		_, err := c.CreateUser(ctx, createParams(i))
		return err
	})
}

// BenchmarkClientGetUserCanned measures GetUser against a server that
// answers a canned User (no emulator logic).
func BenchmarkClientGetUserCanned(b *testing.B) {
	c := benchClient(b, cannedServer(b).URL+"/v1")
	benchmarkParallel(b, func(ctx context.Context, _ int64) error {
		_, err := c.GetUser(ctx, "user_1")
		return err
	})
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkClientGetUserNoNetwork measures the client's own cost (request
// building, headers, timeout context, bounded read, decoding a User) with a
// transport that answers in memory.
func BenchmarkClientGetUserNoNetwork(b *testing.B) {
	body := []byte(userJSON("user_1"))
	c, err := clerk.New(clerk.Config{BaseURL: "http://127.0.0.1:1/v1", SecretKey: testKey,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetUser(ctx, "user_1"); err != nil {
			b.Fatal(err)
		}
	}
}
