// Package oidctest runs a real OpenID provider for tests: ORY Hydra (a
// certified OpenID Connect provider written in Go), built from the module
// in ./provider (its own go.mod, so Hydra's dependencies never enter
// Signoff's) and started on free local ports with an in-memory store.
// Hydra leaves login and consent to an application of ours: this package
// serves a small login form (email and password) and accepts consent
// through Hydra's admin API, putting each test user's claims (email,
// email_verified, Microsoft's tid, Google's hd) into the ID token.
//
// The issuer has the form of a Microsoft tenant's,
// http://127.0.0.1:PORT/{tenant}/v2.0: a reverse proxy mounts Hydra's
// public side under that path, so the same provider stands for a
// Microsoft tenant (with sso.Store.MicrosoftAuthority set to Authority)
// and for a generic issuer.
//
// The first use on a machine builds Hydra (a few minutes from a cold
// cache; the binary is kept in the user cache folder, keyed by the
// provider module's go.sum). When Hydra cannot be built or started, the
// test fails; it is never skipped.
package oidctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is an account at the provider.
type User struct {
	Subject  string
	Email    string
	Password string
	Name     string
	// EmailVerified goes into the token as email_verified unless nil.
	EmailVerified *bool
	// Claims are added to the ID token (tid, hd, preferred_username...).
	Claims map[string]any
}

// Provider is a running Hydra with its login application.
type Provider struct {
	Issuer    string // http://127.0.0.1:PORT/{tenant}/v2.0
	Authority string // http://127.0.0.1:PORT: Microsoft's authority for this provider
	TenantID  string // a GUID
	AdminURL  string
	LoginURL  string // the login application

	mu    sync.Mutex
	users map[string]User // by email and by subject
	cmd   *exec.Cmd
	log   *bytes.Buffer
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// providerDir is the folder of the provider module, beside this file.
func providerDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "provider")
}

// Binary builds Hydra once per go.sum and returns its path.
func Binary() (string, error) {
	buildOnce.Do(func() {
		dir := providerDir()
		sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
		if err != nil {
			buildErr = err
			return
		}
		h := sha256.Sum256(sum)
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		out := filepath.Join(cache, "signoff-oidctest", "hydra-"+hex.EncodeToString(h[:8]))
		if _, err := os.Stat(out); err == nil {
			buildPath = out
			return
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			buildErr = err
			return
		}
		tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
		cmd := exec.Command("go", "build", "-tags", "sqlite,sqlite_omit_load_extension", "-o", tmp, "github.com/ory/hydra/v2")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOWORK=off", "GOFLAGS=-mod=readonly")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("oidctest: build hydra: %v\n%s", err, b)
			return
		}
		if err := os.Rename(tmp, out); err != nil {
			buildErr = err
			return
		}
		buildPath = out
	})
	return buildPath, buildErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

var (
	sharedOnce sync.Once
	shared     *Provider
	sharedStop func()
	sharedErr  error
)

// Shared returns the provider shared by every test of the process,
// starting it on first use; StopShared (from TestMain) stops it. Each
// test registers its own client, so tests stay independent.
func Shared(t testing.TB) *Provider {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedStop, sharedErr = start() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// StopShared stops the shared provider, if one was started.
func StopShared() {
	if sharedStop != nil {
		sharedStop()
	}
}

func start() (*Provider, func(), error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	p := &Provider{TenantID: newGUID(), users: map[string]User{}, log: &bytes.Buffer{}}
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	fail := func(err error) (*Provider, func(), error) { stop(); return nil, nil, err }

	// The reverse proxy that mounts Hydra under /{tenant}/v2.0.
	proxyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	p.Authority = "http://" + proxyLn.Addr().String()
	p.Issuer = p.Authority + "/" + p.TenantID + "/v2.0"
	publicPort, err := freePort()
	if err != nil {
		return fail(err)
	}
	adminPort, err := freePort()
	if err != nil {
		return fail(err)
	}
	public, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", publicPort))
	prefix := "/" + p.TenantID + "/v2.0"
	rp := httputil.NewSingleHostReverseProxy(public)
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix+"/") {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		r.URL.RawPath = ""
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = proxy.Serve(proxyLn) }()
	stops = append(stops, func() { _ = proxy.Close() })

	// The login and consent application.
	loginLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	p.LoginURL = "http://" + loginLn.Addr().String()
	p.AdminURL = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginForm)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("GET /consent", p.consent)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "Test provider: signed out") })
	app := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = app.Serve(loginLn) }()
	stops = append(stops, func() { _ = app.Close() })

	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "all", "--dev")
	dieWithParent(cmd) // never outlives the tests
	cmd.Env = append(os.Environ(),
		"DSN=memory",
		"URLS_SELF_ISSUER="+p.Issuer,
		"URLS_SELF_PUBLIC="+p.Issuer+"/",
		"URLS_LOGIN="+p.LoginURL+"/login",
		"URLS_CONSENT="+p.LoginURL+"/consent",
		"URLS_LOGOUT="+p.LoginURL+"/logout",
		"SECRETS_SYSTEM="+hex.EncodeToString(secret),
		fmt.Sprintf("SERVE_PUBLIC_PORT=%d", publicPort), "SERVE_PUBLIC_HOST=127.0.0.1",
		fmt.Sprintf("SERVE_ADMIN_PORT=%d", adminPort), "SERVE_ADMIN_HOST=127.0.0.1",
		"LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = &syncWriter{p: p}, &syncWriter{p: p}
	if err := cmd.Start(); err != nil {
		cancel()
		return fail(err)
	}
	p.cmd = cmd
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stops = append(stops, func() { cancel(); <-done })

	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(p.AdminURL + "/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-done:
			return fail(fmt.Errorf("oidctest: hydra exited:\n%s", p.Log()))
		default:
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("oidctest: hydra not ready after 60s:\n%s", p.Log()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Hydra makes its signing keys on the first request that needs them
	// (seconds of RSA key generation on a busy machine): do it now, so
	// no test's timeout pays for it.
	// Under load a request can give up before the keys are made; they are
	// kept once made, so asking again succeeds.
	warm := &http.Client{Timeout: 2 * time.Minute}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		var last error
		for try := 0; try < 5; try++ {
			res, err := warm.Get(p.Issuer + path)
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					last = nil
					break
				}
				err = fmt.Errorf("%s", res.Status)
			}
			last = err
			time.Sleep(time.Second)
		}
		if last != nil {
			return fail(fmt.Errorf("oidctest: %s: %w\n%s", path, last, p.Log()))
		}
	}
	return p, stop, nil
}

type syncWriter struct{ p *Provider }

func (w *syncWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.p.log.Len() < 1<<20 {
		w.p.log.Write(b)
	}
	return len(b), nil
}

// Log is what Hydra printed.
func (p *Provider) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// AddUser adds (or replaces) an account at the provider.
func (p *Provider) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, old := range p.users {
		if old.Subject == u.Subject {
			delete(p.users, k)
		}
	}
	p.users["email:"+strings.ToLower(u.Email)] = u
	p.users["sub:"+u.Subject] = u
}

func (p *Provider) user(key string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.users[key]
	return u, ok
}

// Client is a client registered at the provider.
type Client struct {
	ID     string
	Secret string
}

// NewClient registers a confidential client with redirectURIs.
func (p *Provider) NewClient(t testing.TB, redirectURIs ...string) Client {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"client_name": "Signoff test", "redirect_uris": redirectURIs, "grant_types": []string{"authorization_code"},
		"response_types": []string{"code"}, "scope": "openid email profile", "token_endpoint_auth_method": "client_secret_basic",
	})
	var out struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := p.admin(http.MethodPost, "/admin/clients", body, &out); err != nil {
		t.Fatal(err)
	}
	return Client{ID: out.ID, Secret: out.Secret}
}

func (p *Provider) admin(method, path string, body []byte, out any) error {
	req, err := http.NewRequest(method, p.AdminURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("oidctest: %s %s: %s: %s", method, path, res.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (p *Provider) loginForm(w http.ResponseWriter, r *http.Request) {
	p.renderLogin(w, r.URL.Query().Get("login_challenge"), "", "")
}

func (p *Provider) renderLogin(w http.ResponseWriter, challenge, email, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	msg := ""
	if problem != "" {
		w.WriteHeader(http.StatusUnauthorized)
		msg = `<p id="problem" role="alert">` + html.EscapeString(problem) + `</p>`
	}
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Test provider: sign in</title></head><body>
<h1>Test provider</h1>%s
<form method="post" action="/login">
<input type="hidden" name="login_challenge" value="%s">
<label for="username">Email</label> <input id="username" name="username" type="email" value="%s">
<label for="passwd">Password</label> <input id="passwd" name="passwd" type="password">
<button id="submit" type="submit">Sign in</button>
</form></body></html>`, msg, html.EscapeString(challenge), html.EscapeString(email))
}

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	challenge, email := r.PostFormValue("login_challenge"), strings.TrimSpace(r.PostFormValue("username"))
	u, ok := p.user("email:" + strings.ToLower(email))
	if !ok || u.Password != r.PostFormValue("passwd") {
		p.renderLogin(w, challenge, email, "Wrong email or password")
		return
	}
	body, _ := json.Marshal(map[string]any{"subject": u.Subject, "remember": false})
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := p.admin(http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(challenge), body, &out); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, out.RedirectTo, http.StatusFound)
}

func (p *Provider) consent(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("consent_challenge")
	var req struct {
		Subject  string   `json:"subject"`
		Scope    []string `json:"requested_scope"`
		Audience []string `json:"requested_access_token_audience"`
	}
	if err := p.admin(http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	u, ok := p.user("sub:" + req.Subject)
	if !ok {
		http.Error(w, "no such user", http.StatusBadRequest)
		return
	}
	claims := map[string]any{"email": u.Email, "name": u.Name}
	if u.EmailVerified != nil {
		claims["email_verified"] = *u.EmailVerified
	}
	for k, v := range u.Claims {
		claims[k] = v
	}
	body, _ := json.Marshal(map[string]any{
		"grant_scope": req.Scope, "grant_access_token_audience": req.Audience, "remember": false,
		"session": map[string]any{"id_token": claims},
	})
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := p.admin(http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+url.QueryEscape(challenge), body, &out); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, out.RedirectTo, http.StatusFound)
}

// Browser is an HTTP client with a cookie jar, as a browser without
// JavaScript would be.
func Browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// SignIn follows startURL (Signoff's "Sign in with ..." address) to the
// provider's login form, answers it with email and password, and follows
// every redirect back. It returns the last response (its body read into
// the returned string) and the callback address the provider sent the
// browser to (so a test can replay it).
func (p *Provider) SignIn(t testing.TB, c *http.Client, startURL, email, password string) (res *http.Response, body, callback string) {
	t.Helper()
	prev := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.Contains(req.URL.Path, "/sign-in/sso/callback") {
			callback = req.URL.String()
		}
		if len(via) > 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}
	defer func() { c.CheckRedirect = prev }()
	res, err := c.Get(startURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.HasPrefix(res.Request.URL.String(), p.LoginURL+"/login") {
		t.Fatalf("oidctest: %s did not reach the provider's login form but %s (%d):\n%s", startURL, res.Request.URL, res.StatusCode, b)
	}
	challenge := res.Request.URL.Query().Get("login_challenge")
	res, err = c.PostForm(p.LoginURL+"/login", url.Values{"login_challenge": {challenge}, "username": {email}, "passwd": {password}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b), callback
}

// IDToken signs email in as client itself (not through Signoff): the
// authorization code flow with nonce, ending at the client's first
// redirect URI, then the code exchanged for tokens. It returns the raw
// ID token, for tests of token checks.
func (p *Provider) IDToken(t testing.TB, cl Client, redirectURI, nonce, email, password string) string {
	t.Helper()
	c := Browser()
	var code string
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			code = req.URL.Query().Get("code")
			return http.ErrUseLastResponse
		}
		return nil
	}
	q := url.Values{"client_id": {cl.ID}, "response_type": {"code"}, "scope": {"openid email profile"}, "redirect_uri": {redirectURI},
		"state": {"state-" + newGUID()}, "nonce": {nonce}}
	res, err := c.Get(p.Issuer + "/oauth2/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	challenge := res.Request.URL.Query().Get("login_challenge")
	res, err = c.PostForm(p.LoginURL+"/login", url.Values{"login_challenge": {challenge}, "username": {email}, "passwd": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if code == "" {
		t.Fatalf("oidctest: no code for %s (status %d at %s)", email, res.StatusCode, res.Request.URL)
	}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/oauth2/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(cl.Secret))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &tok); err != nil || tok.IDToken == "" {
		t.Fatalf("oidctest: token exchange: %s: %s", res.Status, b)
	}
	return tok.IDToken
}

// Bool is a helper for User.EmailVerified.
func Bool(b bool) *bool { return &b }

// Authorize follows authURL (the provider's authorization address, as
// sso.Store.Begin returns it) to the login form, signs email in, and
// returns the address the provider then sends the browser to: the
// redirect URI with the code and state. Nothing is sent there.
func (p *Provider) Authorize(t testing.TB, authURL, email, password string) *url.URL {
	t.Helper()
	c := Browser()
	var back *url.URL
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), p.Authority) && !strings.HasPrefix(req.URL.String(), p.LoginURL) {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if back != nil {
		return back // the provider answered at once (an error)
	}
	if !strings.HasPrefix(res.Request.URL.String(), p.LoginURL+"/login") {
		t.Fatalf("oidctest: %s did not reach the login form but %s (%d):\n%s", authURL, res.Request.URL, res.StatusCode, b)
	}
	res, err = c.PostForm(p.LoginURL+"/login", url.Values{"login_challenge": {res.Request.URL.Query().Get("login_challenge")},
		"username": {email}, "passwd": {password}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if back == nil {
		t.Fatalf("oidctest: the provider did not send the browser back (%d at %s):\n%s", res.StatusCode, res.Request.URL, b)
	}
	return back
}
