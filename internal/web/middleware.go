package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"time"

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

// loadSession finds the signed-in account, if any, from the session
// cookie and the server-side session it names.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v viewer
		sess, _ := s.cookies.Get(r, sessionCookie)
		if token, _ := sess.Values["token"].(string); token != "" {
			a, err := s.accounts.SessionAccount(r.Context(), token)
			switch {
			case err == nil:
				sc, err := s.schools.Get(r.Context(), a.SchoolID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
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
		if len(a.roles) > 0 && !slices.ContainsFunc(a.roles, v.account.Has) {
			s.fail(w, r, apperr.New(apperr.Forbidden, "Your account cannot see this page"))
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

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the address the request came from (the proxy's, when
// behind one: Signoff does not trust forwarded headers by default).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// safeNext returns next when it is a path on this site, else "/".
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || len(next) < 1 || next[0] != '/' || (len(next) > 1 && (next[1] == '/' || next[1] == '\\')) {
		return "/"
	}
	return next
}
