package emulator

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkCreateUser measures POST /v1/users through the handler: auth,
// rate limiting, parsing, every rule, the unique indexes, rendering.
func BenchmarkCreateUser(b *testing.B) {
	e := New(Config{RequestsPerWindow: 1 << 62})
	b.ReportAllocs()
	var sb strings.Builder
	for i := 0; b.Loop(); i++ {
		n := strconv.Itoa(i)
		sb.Reset()
		sb.WriteString(`{"external_id":"legacy-`)
		sb.WriteString(n)
		sb.WriteString(`","email_address":["user`)
		sb.WriteString(n)
		sb.WriteString(`@example.com"],"first_name":"Ada","username":"user_`)
		sb.WriteString(n)
		sb.WriteString(`","password_hasher":"bcrypt","password_digest":"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy","public_metadata":{"plan":"pro"},"created_at":"2012-10-20T07:15:20.902Z"}`)
		req := httptest.NewRequest(http.MethodPost, "/v1/users", strings.NewReader(sb.String()))
		req.Header.Set("Authorization", "Bearer sk_live_bench")
		req.Header.Set("Clerk-API-Version", "2026-05-12")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
