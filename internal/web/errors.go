package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"signoff/internal/apperr"
	"signoff/templates"
)

// statusOf maps a domain error code to an HTTP status: the one place
// where that happens.
func statusOf(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Unavailable, apperr.Busy:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// formStatus is the status of a page shown with err, the outcome of its
// form or action: 200 when there is none, else err's (see statusOf).
func formStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return statusOf(apperr.CodeOf(err))
}

// busyRetryAfter is how many seconds a busy answer asks the client to wait.
const busyRetryAfter = 1

// statusClientClosed is the status a request the browser left before its
// answer is logged with (nginx's 499): no one receives it.
const statusClientClosed = 499

// fail answers a request that went wrong: sign-in for the anonymous, an
// error page otherwise. Internal errors are logged, never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() != nil {
		s.log.Warn("request ran out of time", "method", r.Method, "path", r.URL.Path, "err", err)
		s.renderError(w, r, http.StatusServiceUnavailable, "This is taking too long",
			"The request was stopped because it took too long. What you entered has not been saved. Try again in a moment.")
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The browser went away first (closed, stopped, or sent the form
		// again): nobody reads an answer, nothing was saved, nothing failed.
		s.log.Info("request ended by the browser", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(statusClientClosed)
		return
	}
	code := apperr.CodeOf(err)
	status := statusOf(code)
	switch code {
	case apperr.Unauthenticated:
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		s.renderError(w, r, status, "Sign in to continue", apperr.MessageOf(err))
	case apperr.NotFound:
		s.notFound(w, r)
	case apperr.Forbidden:
		s.renderError(w, r, status, "You cannot see this page", apperr.MessageOf(err))
	case apperr.Busy:
		// Nothing was done; the browser (or a script) may try again soon.
		w.Header().Set("Retry-After", strconv.Itoa(busyRetryAfter))
		s.renderError(w, r, status, "Signoff is busy", apperr.MessageOf(err))
	case apperr.Internal:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		s.renderError(w, r, status, "Sorry, there is a problem with the service", "Try again later. What you entered has not been saved.")
	default:
		s.renderError(w, r, status, "This could not be done", apperr.MessageOf(err))
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "Page not found",
		"If you typed the web address, check it is correct. If you followed a link, it may be one that is not yours to open.")
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	s.render(w, r, status, templates.ErrorPage(templates.ErrorView{Layout: s.layout(r, heading), Heading: heading, Message: message, Status: status,
		Reference: requestIDOf(r.Context())}))
}
