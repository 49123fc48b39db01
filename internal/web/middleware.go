package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/schools"
)

type ctxKey int

const viewerKey ctxKey = iota

// viewer is who is making the request: their account and school, or
// nobody.
type viewer struct {
	account  auth.Account
	school   schools.School
	token    string
	signedIn bool
}

func viewerOf(r *http.Request) viewer {
	v, _ := r.Context().Value(viewerKey).(viewer)
	return v
}

// sessionCookie is the name of the session cookie.
const sessionCookie = "signoff_session"

// loadSession finds the signed-in account and its school, if any, from
// the session cookie and the server-side session it names (one query).
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v viewer
		sess, _ := s.cookies.Get(r, sessionCookie)
		if token, _ := sess.Values["token"].(string); token != "" {
			a, sc, err := s.accounts.Session(r.Context(), token)
			switch {
			case err == nil:
				v = viewer{account: a, school: sc, token: token, signedIn: true}
			case apperr.CodeOf(err) != apperr.Unauthenticated:
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey, v)))
	})
}

// guard enforces a route's access: anonymous visitors go to sign-in,
// signed-in accounts without the role get 403.
func (s *Server) guard(a access, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.public {
			h(w, r)
			return
		}
		v := viewerOf(r)
		if !v.signedIn {
			s.fail(w, r, apperr.New(apperr.Unauthenticated, "Sign in to continue"))
			return
		}
		if !a.allows(v.account) {
			msg := a.refused
			if msg == "" {
				msg = "Your account cannot see this page"
			}
			s.fail(w, r, apperr.New(apperr.Forbidden, "%s", msg))
			return
		}
		h(w, r)
	})
}

// crossOriginProtection refuses state-changing requests that a browser
// says come from another site (Sec-Fetch-Site, or Origin not matching).
func crossOriginProtection(next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	return p.Handler(next)
}

// securityHeaders sets the headers every response carries.
func securityHeaders(secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
				"font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestIDKey holds the request's ID in its context.
const requestIDKey ctxKey = 100

// requestIDOf is the request's ID ("" outside a request).
func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// newRequestID is 16 random characters of base32 (lower case, no padding).
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// withRequestID gives each request an ID: in its context (every log line
// written with the request's context carries it as request_id), in the
// X-Request-ID response header, and on the error page ("quote this
// reference"), so that a school's report can be found in the logs.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// requestIDHandler adds request_id to log records written with a
// request's context.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := requestIDOf(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}

func (h requestIDHandler) WithGroup(g string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(g)}
}

// logRequests logs each request (at debug level) and tells the metrics,
// by route pattern.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		s.log.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", route, "status", sw.status, "duration", d)
		if s.observe != nil {
			s.observe(r.Method, route, sw.status, d)
		}
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				http.Error(w, "Sorry, there is a problem with the service. Quote this reference: "+requestIDOf(r.Context()), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the address the request came from: the peer's, or, when
// the peer is a proxy the operator trusts (Config.TrustedProxies), the
// client's address that the proxies passed on in X-Forwarded-For.
func clientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey).(string); ok {
		return ip
	}
	return peerIP(r)
}

// peerIP is the address of the TCP peer.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientIPKey holds the client's address in the request's context.
const clientIPKey ctxKey = 101

// realClientIP puts the client's address in the request's context: the
// peer's, unless the peer is one of trusted, in which case it walks
// X-Forwarded-For from the right, past every trusted proxy, and takes the
// first address that is not one (or the leftmost, when all are). A header
// from anyone else is ignored, so a client cannot choose the address the
// audit log and the rate limits see.
func realClientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := ForwardedClientIP(peerIP(r), r.Header.Values("X-Forwarded-For"), trusted)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey, ip)))
		})
	}
}

// ForwardedClientIP is the client's address for a request from peer with
// the given X-Forwarded-For header values, trusting the proxies in
// trusted (see realClientIP). It is exported for its tests.
func ForwardedClientIP(peer string, forwarded []string, trusted []netip.Prefix) string {
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if len(trusted) == 0 || !isTrusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range forwarded {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // not an address: written by the client, so the last good hop stands
		}
		client = a.Unmap().String()
		if !isTrusted(client) {
			break
		}
	}
	return client
}

// safeNext returns next when it is a path on this site, else "/".
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || len(next) < 1 || next[0] != '/' || (len(next) > 1 && (next[1] == '/' || next[1] == '\\')) {
		return "/"
	}
	return next
}
