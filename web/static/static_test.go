package static_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"signoff/web/static"
)

const immutable = "public, max-age=31536000, immutable"

func serve(t *testing.T, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/static/", static.Handler())
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func TestPathIsContentHashed(t *testing.T) {
	data, err := os.ReadFile("app.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := "/static/app." + hex.EncodeToString(sum[:])[:10] + ".css"
	if got := static.Path("app.css"); got != want {
		t.Fatalf("Path(app.css) = %q, want %q", got, want)
	}
	if got := static.Path("/app.css"); got != want {
		t.Errorf("Path(/app.css) = %q, want %q", got, want)
	}
	if got := static.Path("govuk-frontend.min.css"); !regexp.MustCompile(`^/static/govuk-frontend\.min\.[0-9a-f]{10}\.css$`).MatchString(got) {
		t.Errorf("Path(govuk-frontend.min.css) = %q", got)
	}
}

func TestPathUnknownName(t *testing.T) {
	if got := static.Path("nope.css"); got != "/static/nope.css" {
		t.Errorf("Path(nope.css) = %q, want /static/nope.css", got)
	}
}

func TestHandlerServesHashedNames(t *testing.T) {
	for _, tc := range []struct{ name, ctype string }{
		{"app.css", "text/css; charset=utf-8"},
		{"govuk-frontend.min.css", "text/css; charset=utf-8"},
		{"app.js", "text/javascript; charset=utf-8"},
		{"govuk-frontend.LICENSE.txt", "text/plain; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := static.Path(tc.name)
			if p == "/static/"+tc.name {
				t.Fatalf("Path(%q) is not hashed: %q", tc.name, p)
			}
			rec := serve(t, http.MethodGet, p, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d", p, rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != immutable {
				t.Errorf("Cache-Control = %q, want %q", got, immutable)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			want, err := os.ReadFile(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Body.String() != string(want) {
				t.Errorf("body differs from %s on disk", tc.name)
			}
			etag := rec.Header().Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{10}"$`).MatchString(etag) {
				t.Fatalf("ETag = %q", etag)
			}
			rec = serve(t, http.MethodGet, p, map[string]string{"If-None-Match": etag})
			if rec.Code != http.StatusNotModified {
				t.Errorf("conditional GET: status %d, want 304", rec.Code)
			}
		})
	}
}

func TestHandlerServesUnhashedNamesUncached(t *testing.T) {
	rec := serve(t, http.MethodGet, "/static/app.css", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
}

func TestHandlerNotFound(t *testing.T) {
	for _, p := range []string{
		"/static/",
		"/static/nope.css",
		"/static/app.0000000000.css", // stale or made-up hash
		"/static/static.go",
		"/static/static_test.go",
		"/static/APP.CSS",
	} {
		rec := serve(t, http.MethodGet, p, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, rec.Code)
		}
		if got := rec.Header().Get("Cache-Control"); got == immutable {
			t.Errorf("GET %s: 404 must not be cached immutably", p)
		}
	}
	// Called directly (no ServeMux path cleaning/redirects), unclean paths 404 too.
	for _, p := range []string{"/app.css", "/static/../static.go", "/static/../static/app.css", "/static//app.css", "/static/sub/app.css"} {
		rec := httptest.NewRecorder()
		static.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("direct GET %s: status %d, want 404", p, rec.Code)
		}
	}
}

func TestHandlerMethods(t *testing.T) {
	p := static.Path("app.css")
	rec := serve(t, http.MethodHead, p, nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, body %d bytes", rec.Code, rec.Body.Len())
	}
	rec = serve(t, http.MethodPost, p, nil)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

func TestVendoredCSSHasNoGovukOnlyAssets(t *testing.T) {
	data, err := os.ReadFile("govuk-frontend.min.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(data)
	if !strings.HasPrefix(css, `@charset "UTF-8";`) {
		t.Error("vendored CSS should start with @charset")
	}
	lower := strings.ToLower(css)
	for _, bad := range []string{"gds transport", "@font-face", "url(", "govuk-crest", "sourcemappingurl"} {
		if strings.Contains(lower, bad) {
			t.Errorf("vendored CSS contains %q", bad)
		}
	}
	if !strings.Contains(css, `font-family:system-ui,`) {
		t.Error("vendored CSS lacks the system font stack")
	}
}

func TestAppAssets(t *testing.T) {
	css, err := os.ReadFile("app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".app-header", "--school-colour", "--school-colour-text", ".app-policy-text", ".app-table-wrapper", "@media print"} {
		if !strings.Contains(string(css), want) {
			t.Errorf("app.css lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(string(css)), "gds transport") {
		t.Error("app.css mentions GDS Transport")
	}
	if _, err := os.Stat("app.js"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat("govuk-frontend.LICENSE.txt"); err != nil {
		t.Error(err)
	}
}
