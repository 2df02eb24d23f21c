package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// artifactsDir keeps what the browser test produced, for people to look at
// (git-ignored).
const artifactsDir = "testdata/artifacts"

// chromiumPath finds headless Chromium, installing Debian's package when it
// is missing and the test runs as root. It skips when there is no browser,
// except on CI where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	var why string
	if os.Geteuid() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		install := func() ([]byte, error) {
			cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "chromium")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			return cmd.CombinedOutput()
		}
		out, err := install()
		if err != nil { // a new machine may have no package lists yet
			exec.CommandContext(ctx, "apt-get", "update").Run()
			out, err = install()
		}
		if p, lerr := exec.LookPath("chromium"); lerr == nil {
			return p
		}
		why = "apt-get install -y chromium failed: " + tail(string(out), 400) + " " + errString(err)
	} else {
		why = "chromium is not installed and the test is not root (apt-get install -y chromium)"
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and no headless Chromium: %s", why)
	}
	t.Skipf("skipping the browser test: %s", why)
	return ""
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// runChromium runs headless Chromium on a file with the given extra
// arguments and returns its standard output.
func runChromium(t *testing.T, chromium, file string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	args = append(append(args, extra...), "file://"+file)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

// writeBrowserReport writes the golden run's report, with validation
// findings, to the artifacts directory.
func writeBrowserReport(t *testing.T) (Files, *RunStats, *Validation) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(artifactsDir, "report"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	store, _ := newLedger(t, goldenRunID, goldenRows())
	stats := goldenStats()
	v := &Validation{
		Findings: []Finding{
			{Pos: 3, Key: "u-003", Field: "email_address", Code: "email_invalid", Reason: `"not-an-email" is not an email address`},
			{Pos: 7, Key: "u-007", Field: "password_digest", Code: "digest_invalid", Reason: "digest " + plantedSecrets[1] + " is not an argon2 PHC string"},
			{Pos: 11, Key: "u-011", Field: "totp_secret", Code: "totp_invalid", Reason: "not base32"},
		},
		FindingsTotal: 3,
		Coverage: Coverage{Rows: 12,
			Fields:  []Count{{"email_address", 12}, {"first_name", 9}, {"last_name", 8}, {"password_digest", 7}, {"phone_number", 3}},
			Hashers: []Count{{"bcrypt", 5}, {"argon2id", 1}, {"pbkdf2_sha256_django", 1}},
			WithMFA: 2, WithoutPassword: 5, WithSeveralEmails: 1},
	}
	files, err := Write(context.Background(), store, goldenRunID, dir, Options{Stats: stats, Validation: v, Now: fixedNow, MaxExamples: 1})
	if err != nil {
		t.Fatal(err)
	}
	return files, stats, v
}

// TestReportHTMLInChromium opens report.html of a run with failures in
// headless Chromium: the dumped DOM must hold the charts and tables with
// the right counts, a probe must find the charts drawn with a size, and a
// screenshot is kept in testdata/artifacts.
func TestReportHTMLInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	files, stats, v := writeBrowserReport(t)
	html, err := os.ReadFile(files.HTML)
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?i)\b(src|href)\s*=|@import|url\(`).Find(html); m != nil {
		t.Errorf("report.html references an outside resource (%q): it must be self-contained", m)
	}

	dom := string(runChromium(t, chromium, files.HTML, "--dump-dom"))
	if err := os.WriteFile(filepath.Join(artifactsDir, "report.dom.html"), []byte(dom), 0o600); err != nil {
		t.Fatal(err)
	}
	rateLimited := 0
	for _, s := range stats.Series {
		if s.RateLimited > 0 {
			rateLimited++
		}
	}
	for _, c := range []struct {
		what, needle string
		want         int
	}{
		{"throughput chart", `<svg class="chart chart-throughput"`, 1},
		{"latency chart", `<svg class="chart chart-latency"`, 1},
		{"outcome bar", `<svg class="chart chart-outcomes"`, 1},
		{"throughput line of every sample", `<polyline class="series s-rate" data-points="20"`, 1},
		{"latency lines", `<polyline class="series s-p`, 3},
		{"429 marks", `<rect class="mark"`, rateLimited},
		{"outcome tiles (created, exists, skipped, invalid, failed, in_flight)", `<div class="tile outcome`, 6},
		{"outcome bar segments", `<rect class="segment`, 6},
		{"error groups (one per code)", `<tr class="err-group"`, 7},
		{"example rows (one per code)", `<tr class="example">`, 7},
		{"findings", `<tr class="finding">`, len(v.Findings)},
		{"field coverage bars", `<rect class="bar b-field"`, len(v.Coverage.Fields)},
		{"hasher bars", `<rect class="bar b-hasher"`, len(v.Coverage.Hashers)},
		{"MFA bar", `<rect class="bar b-mfa"`, 1},
	} {
		if got := strings.Count(dom, c.needle); got != c.want {
			t.Errorf("%s: %d of %s in the DOM, want %d", c.what, got, c.needle, c.want)
		}
	}
	for _, want := range []string{`data-code="form_identifier_exists"`, `id="exit-code">2<`, `id="rate-limited">4<`, Redacted} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %s", want)
		}
	}
	for _, s := range plantedSecrets {
		if strings.Contains(dom, longestAlnumRun(s)) {
			t.Errorf("the DOM shows planted secret %q", s)
		}
	}

	checkRenderedSizes(t, chromium, html)
	checkScreenshot(t, chromium, files.HTML)
}

// probeScript measures, once the page is laid out, every chart and table:
// a chart that did not render has no box.
const probeScript = `<script>
window.addEventListener("load", function () {
  var out = {};
  document.querySelectorAll("svg.chart").forEach(function (s) {
    var r = s.getBoundingClientRect();
    out[s.getAttribute("class")] = [Math.round(r.width), Math.round(r.height)];
  });
  document.querySelectorAll("polyline.series").forEach(function (p) {
    var b = p.getBBox();
    out["line " + p.getAttribute("class")] = [Math.round(b.width), Math.round(b.height)];
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>`

func checkRenderedSizes(t *testing.T, chromium string, html []byte) {
	t.Helper()
	probe := filepath.Join(t.TempDir(), "probe.html")
	page := bytes.Replace(html, []byte("</body>"), []byte(probeScript+"</body>"), 1)
	if err := os.WriteFile(probe, page, 0o600); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, chromium, probe, "--window-size=1280,2000", "--dump-dom")
	m := regexp.MustCompile(`<pre id="probe">([^<]*)</pre>`).FindSubmatch(dom)
	if m == nil {
		t.Fatal("the probe did not run")
	}
	var sizes map[string][2]int
	if err := json.Unmarshal(bytes.ReplaceAll(m[1], []byte("&quot;"), []byte(`"`)), &sizes); err != nil {
		t.Fatalf("probe output %s: %v", m[1], err)
	}
	for _, name := range []string{"chart chart-throughput", "chart chart-latency", "chart chart-outcomes",
		"chart bars chart-fields", "chart bars chart-hashers", "chart bars chart-people",
		"line series s-rate", "line series s-p50", "line series s-p99"} {
		wh, ok := sizes[name]
		if !ok || wh[0] < 100 || wh[1] < 10 {
			t.Errorf("%s rendered %v (found %v), want a visible box", name, wh, ok)
		}
	}
	if w := sizes["chart chart-throughput"][0]; w > 1280 {
		t.Errorf("throughput chart is %dpx wide on a 1280px window", w)
	}
}

func checkScreenshot(t *testing.T, chromium, file string) {
	t.Helper()
	shot, err := filepath.Abs(filepath.Join(artifactsDir, "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(shot)
	runChromium(t, chromium, file, "--screenshot="+shot, "--window-size=1280,2000")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %v, want 1280x2000", b)
	}
	colours := map[[3]uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 7 {
		for x := 0; x < img.Bounds().Dx(); x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: a blank page?", len(colours))
	}
	t.Logf("screenshot: %s", shot)
}
