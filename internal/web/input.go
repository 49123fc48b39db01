package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"signoff/internal/limits"
)

// MaxRequestBody is the most any request may send: the largest upload
// (an MIS export or a signed copy to verify, 20 MB) and its form fields.
// Pages with smaller uploads check their own limit as well.
const MaxRequestBody = 21 << 20

// maxFormMemory is how much of a multipart form is held in memory; the
// rest of a large upload waits in a temporary file.
const maxFormMemory = 4 << 20

// DefaultRequestTimeout bounds every request's work (its context ends
// then, and with it every query it is running).
const DefaultRequestTimeout = 60 * time.Second

// DefaultMemoryLimit is the soft memory limit a server gives the Go
// runtime (runtime/debug.SetMemoryLimit; cmd/signoff's
// SIGNOFF_MEMORY_LIMIT changes it). Password hashing allocates 19 MiB a
// hash and drops it at once; without a limit the garbage collector lets
// that garbage pile up to twice what is live, so fifty sign-ins took a
// server to 220 MB resident with only two hashes running. Near the limit
// the collector runs sooner instead (a soft limit: a server that needs
// more still gets it).
const DefaultMemoryLimit = 128 << 20

// textProblem says what is wrong with one piece of text from a request,
// or "" when it is well formed: valid UTF-8 without NUL characters, the
// only text PostgreSQL can store.
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "contains bytes that are not valid UTF-8 text"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}

// valuesProblem checks every name and value of a form or query.
func valuesProblem(where string, vals url.Values) string {
	for k, vs := range vals {
		if p := textProblem(k); p != "" {
			return fmt.Sprintf("A field name in the %s %s.", where, p)
		}
		for _, v := range vs {
			if p := textProblem(v); p != "" {
				return fmt.Sprintf("The field %q in the %s %s.", clip(k, 40), where, p)
			}
		}
	}
	return ""
}

// checkInput is the one place that refuses malformed text: the path, the
// query and every form field (URL-encoded or multipart) must be valid
// UTF-8 without NUL, or the request gets a 400 page saying what was wrong
// before any handler sees it. It also bounds the body to MaxRequestBody
// (413 beyond) and trims the User-Agent to a sane, valid length.
func (s *Server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg := readInput(w, r)
		if r.MultipartForm != nil {
			defer func() { _ = r.MultipartForm.RemoveAll() }()
		}
		switch status {
		case 0:
			next.ServeHTTP(w, r)
		case http.StatusRequestEntityTooLarge:
			s.renderError(w, r, status, "What you sent is too large", msg)
		default:
			s.renderError(w, r, status, "The request could not be read", msg+" Check what you typed or pasted and try again.")
		}
	})
}

// readInput parses the request's query and form (leaving them parsed for
// the handler) and says what is wrong with them: a status and a message,
// or 0 when they are well formed.
func readInput(w http.ResponseWriter, r *http.Request) (status int, msg string) {
	if p := textProblem(r.URL.Path); p != "" {
		return http.StatusBadRequest, "The web address " + p + "."
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return http.StatusBadRequest, "The web address has a malformed query (after the ?)."
	}
	if p := valuesProblem("web address", query); p != "" {
		return http.StatusBadRequest, p
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		clean := clip(strings.ReplaceAll(strings.ToValidUTF8(ua, "\uFFFD"), "\x00", ""), limits.UserAgent) // stored with every signature as evidence
		if clean != ua {
			r.Header.Set("User-Agent", clean)
		}
	}
	if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return 0, ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxFormMemory)
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Send at most %d MB at a time.", MaxRequestBody>>20)
	case err != nil:
		return http.StatusBadRequest, "The form could not be read."
	}
	if p := valuesProblem("form", r.PostForm); p != "" {
		return http.StatusBadRequest, p
	}
	if r.MultipartForm != nil {
		if p := valuesProblem("form", r.MultipartForm.Value); p != "" {
			return http.StatusBadRequest, p
		}
		for field, files := range r.MultipartForm.File {
			for _, f := range files {
				if p := textProblem(f.Filename); p != "" {
					return http.StatusBadRequest, fmt.Sprintf("The name of the file in %q %s.", clip(field, 40), p)
				}
			}
		}
	}
	return 0, ""
}

// ExportTimeout bounds a streamed ZIP of signed copies (one PDF after
// another, for a whole form): just under the server's write timeout.
const ExportTimeout = 115 * time.Second

// timeout bounds the work of each request: its context ends after d
// (ExportTimeout for a .zip), so every query it runs is cancelled then
// (as it is when the client leaves).
func timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := d
			if strings.HasSuffix(r.URL.Path, ".zip") {
				limit = max(d, ExportTimeout)
			}
			ctx, cancel := context.WithTimeout(r.Context(), limit)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// decodeDataURL reads the drawn signature a browser sends as
// "data:image/png;base64,…"; nil when it is anything else.
func decodeDataURL(s string) []byte {
	data, ok := strings.CutPrefix(s, "data:image/png;base64,")
	if !ok {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil
	}
	return b
}
