package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"signoff/internal/demo"
)

// TestBehindCaddy runs the README's Caddyfile (the ```caddy block under
// "Running behind HTTPS", with Caddy's own certificate authority instead of
// Let's Encrypt) in front of Signoff set up as the README says, and signs in
// through it: the certificate verifies, http:// redirects to https://, the
// cross-origin check passes with Caddy's Host header, the session cookie is
// Secure and responses carry HSTS.
func TestBehindCaddy(t *testing.T) {
	t.Parallel()
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		t.Fatal("caddy is not installed (make test-deps installs it: apt-get install caddy)")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "```caddy\n")
	if start < 0 {
		t.Fatal("the README has no ```caddy block")
	}
	site, _, ok := strings.Cut(text[start+len("```caddy\n"):], "```")
	if !ok || !strings.Contains(site, "signoff.example.sch.uk {") || !strings.Contains(site, "reverse_proxy 127.0.0.1:8080") {
		t.Fatalf("the README's Caddyfile is not the shape this test knows:\n%s", site)
	}

	root, err := os.MkdirTemp("", "signoff-caddy-test-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(root, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	httpPort, httpsPort := freePort(t), freePort(t)
	host := "signoff.localhost"
	public := "https://" + host + ":" + strconv.Itoa(httpsPort)

	signoff, _ := startServerWith(t, map[string]string{
		"SIGNOFF_DATA": filepath.Join(root, "data"), "SIGNOFF_BASE_URL": public, "SIGNOFF_SECURE_COOKIES": "true",
		"SIGNOFF_TRUSTED_PROXIES": "127.0.0.1",
	}, "--demo")
	backend := strings.TrimPrefix(signoff, "http://")

	site = strings.Replace(site, "signoff.example.sch.uk {", host+":"+strconv.Itoa(httpsPort)+" {\n\ttls internal", 1)
	site = strings.Replace(site, "127.0.0.1:8080", backend, 1)
	config := "{\n\tadmin off\n\thttp_port " + strconv.Itoa(httpPort) + "\n\thttps_port " + strconv.Itoa(httpsPort) +
		"\n\tskip_install_trust\n\tstorage file_system " + filepath.Join(root, "caddy") + "\n}\n\n" + site
	caddyfile := filepath.Join(root, "Caddyfile")
	if err := os.WriteFile(caddyfile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, caddy, "run", "--config", caddyfile, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+root, "XDG_DATA_HOME="+root, "XDG_CONFIG_HOME="+root)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	// Every name is this machine; trust only Caddy's local authority.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}
	rootCert := filepath.Join(root, "caddy", "pki", "authorities", "local", "root.crt")
	var pool *x509.CertPool
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if pem, err := os.ReadFile(rootCert); err == nil {
			pool = x509.NewCertPool()
			if pool.AppendCertsFromPEM(pem) {
				c := &http.Client{Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}}}
				if resp, err := c.Get(public + "/healthz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Caddy did not serve %s:\n%s", public, logs.String())
		}
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}}}

	// http:// is sent to https://.
	noFollow := &http.Client{Transport: client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + host + ":" + strconv.Itoa(httpPort) + "/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, "https://"+host) {
		t.Fatalf("http:// answered %d, Location %q", resp.StatusCode, loc)
	}

	// Sign in as a browser without Sec-Fetch-Site would: the cross-origin
	// check then compares the form's Origin with the Host Caddy passes on.
	resp, err = client.Get(public + "/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("sign-in page through Caddy: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	form := url.Values{"email": {demo.AdminEmail}, "password": {demo.Password}}
	req, _ := http.NewRequest("POST", public+"/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", public)
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in through Caddy: %d (a 403 means the cross-origin check saw another Host)", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Value != "" && c.MaxAge >= 0 {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly {
		t.Fatalf("the session cookie through Caddy: %+v", session)
	}
	u, _ := url.Parse(public)
	jar.SetCookies(u, []*http.Cookie{session})
	resp, err = client.Get(public + "/admin/tracking")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/tracking" {
		t.Fatalf("the dashboard through Caddy after signing in: %d at %s", resp.StatusCode, resp.Request.URL)
	}

	// A form posted from another site is still refused.
	req, _ = http.NewRequest("POST", public+"/sign-out", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site POST through Caddy: %d", resp.StatusCode)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeAddr is a free loopback address for a server to listen on.
func freeAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}
