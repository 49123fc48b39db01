package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/onboarding"
	"signoff/internal/web"
)

func TestForwardedClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy configured header ignored", "203.0.113.5", []string{"198.51.100.7"}, "203.0.113.5"},
		{"untrusted peer's header ignored", "203.0.113.5", []string{"198.51.100.7"}, "203.0.113.5"},
		{"trusted peer, one hop", "10.0.0.2", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a forged left part is skipped", "10.0.0.2", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted proxies", "10.0.0.2", []string{"198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"two header lines", "10.0.0.2", []string{"1.2.3.4", "198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"all hops trusted: the leftmost", "10.0.0.2", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"garbage stops the walk", "10.0.0.2", []string{"<script>, 10.1.1.1"}, "10.1.1.1"},
		{"no header: the proxy itself", "10.0.0.2", nil, "10.0.0.2"},
		{"IPv6 client through an IPv6 proxy", "fd00::1", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped IPv6 peer", "::ffff:10.0.0.2", []string{"198.51.100.7"}, "198.51.100.7"},
	} {
		trusted := proxies
		if tc.name == "no proxy configured header ignored" {
			trusted = nil
		}
		if got := web.ForwardedClientIP(tc.peer, tc.xff, trusted); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// signInIP signs in through a server trusting proxies, with a forwarded
// header, and returns the address the audit log recorded.
func signInIP(t *testing.T, proxies []netip.Prefix, xff string) string {
	t.Helper()
	base := newApp(t)
	srv := web.New(base.db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", TrustedProxies: proxies})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	req, _ := http.NewRequest("POST", ts.URL+"/sign-in", strings.NewReader(url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	var ip string
	if err := base.db.Pool.QueryRow(context.Background(), `SELECT ip FROM audit_log WHERE action = 'account.signed_in' ORDER BY id DESC LIMIT 1`).Scan(&ip); err != nil {
		t.Fatal(err)
	}
	return ip
}

// The audit log records the client's address from X-Forwarded-For only
// when the request comes from a trusted proxy; anyone else's header is
// ignored.
func TestTrustedProxiesReachTheAuditLog(t *testing.T) {
	t.Parallel()
	if ip := signInIP(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "6.6.6.6, 198.51.100.7"); ip != "198.51.100.7" {
		t.Errorf("through a trusted proxy the audit log says %s, want 198.51.100.7 (the hop the proxy saw)", ip)
	}
	if ip := signInIP(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.7"); ip != "127.0.0.1" {
		t.Errorf("a forged header from an untrusted peer: the audit log says %s, want 127.0.0.1", ip)
	}
	if ip := signInIP(t, nil, "198.51.100.7"); ip != "127.0.0.1" {
		t.Errorf("with no trusted proxies: the audit log says %s, want 127.0.0.1", ip)
	}
}

// syncBuffer is a log destination the handler and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every response carries a request ID; an error page shows it to quote,
// the log line names it, and the metrics hook sees the route pattern, not
// the path.
func TestRequestIDOnErrorPageAndInLogs(t *testing.T) {
	t.Parallel()
	base := newApp(t)
	var logs syncBuffer
	type seen struct {
		method, route string
		status        int
	}
	var mu sync.Mutex
	var observed []seen
	srv := web.New(base.db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test",
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ObserveRequest: func(method, route string, status int, d time.Duration) {
			mu.Lock()
			observed = append(observed, seen{method, route, status})
			mu.Unlock()
		}})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	a := &app{t: t, db: base.db, srv: srv, ts: ts}
	office := a.signedIn(demo.AdminEmail)

	res, err := office.http.Get(ts.URL + "/admin/outbox/999999")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	id := res.Header.Get("X-Request-ID")
	if res.StatusCode != http.StatusNotFound || len(id) != 16 {
		t.Fatalf("status %d, request ID %q", res.StatusCode, id)
	}
	if !strings.Contains(body.String(), "quote this reference: <strong>"+id+"</strong>") {
		t.Fatalf("the error page does not show the reference %s:\n%s", id, body.String())
	}
	if !strings.Contains(logs.String(), "request_id="+id) {
		t.Fatalf("no log line names request %s:\n%s", id, logs.String())
	}
	other := office.get("/admin/outbox")
	if other.status != 200 {
		t.Fatal(other.status)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[seen]bool{{"GET", "/admin/outbox/{messageID}", 404}: false, {"GET", "/admin/outbox", 200}: false}
	for _, o := range observed {
		if _, ok := want[o]; ok {
			want[o] = true
		}
		if strings.Contains(o.route, "999999") {
			t.Errorf("a raw path reached the metrics: %+v", o)
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("the metrics hook did not see %+v (saw %+v)", k, observed)
		}
	}
}

// The rate limits count the client's address: through a trusted proxy,
// each forwarded client has its own allowance; from anyone else, a
// changed X-Forwarded-For does not buy a fresh one.
func TestRateLimitsFollowTheTrustedClientIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		want    int // the other client's first attempt
	}{
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, http.StatusUnprocessableEntity},
		{"no trusted proxy", nil, http.StatusTooManyRequests},
	} {
		db := dbtest.New(t)
		if _, err := onboarding.NewStore(db).NewSetupCode(context.Background()); err != nil {
			t.Fatal(err)
		}
		srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", TrustedProxies: tc.proxies})
		ts := httptest.NewServer(srv.Handler())
		attempt := func(from string) int {
			req, _ := http.NewRequest("POST", ts.URL+"/set-up-school", strings.NewReader(firstRunForm("WRNG-WRNG-WRNG-WRNG").Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", from)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for i := range onboarding.LimitSetupByIP.Max {
			if code := attempt("198.51.100.1"); code != http.StatusUnprocessableEntity {
				t.Fatalf("%s: wrong code %d: %d", tc.name, i, code)
			}
		}
		if code := attempt("198.51.100.1"); code != http.StatusTooManyRequests {
			t.Fatalf("%s: the same client after %d wrong codes: %d, want 429", tc.name, onboarding.LimitSetupByIP.Max, code)
		}
		if code := attempt("198.51.100.2"); code != tc.want {
			t.Fatalf("%s: another forwarded address: %d, want %d", tc.name, code, tc.want)
		}
		ts.Close()
	}
}
