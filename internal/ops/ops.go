// Package ops is the operator's listener (SIGNOFF_METRICS_ADDR), apart
// from the schools' site:
//
//	/metrics    Prometheus metrics (internal/metrics)
//	/riverui/   River's own UI (riverqueue.com/riverui): the job queue, each job's
//	            attempts and errors, retry and cancel; only with a token
//
// With a token (SIGNOFF_METRICS_TOKEN), every request needs it: as
// "Authorization: Bearer TOKEN" (Prometheus' bearer_token), or as the
// password of HTTP basic authentication with any user name (a browser,
// for the UI). Without one, /metrics is open to whoever reaches the
// address (bind it to a private interface) and the UI is off.
package ops

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"signoff/internal/metrics"
)

// Config is what the operator's handler serves.
type Config struct {
	Metrics *metrics.Metrics
	River   *river.Client[pgx.Tx] // nil: no UI
	Token   string
	Log     *slog.Logger
}

// New returns the operator's handler. The UI's background work runs until
// ctx ends.
func New(ctx context.Context, cfg Config) (http.Handler, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cfg.Metrics.Handler())
	if cfg.River != nil && cfg.Token != "" {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(cfg.River, nil),
			Logger:    log.With("component", "riverui"),
			Prefix:    "/riverui",
			// Job arguments hold only ids, but keep them folded.
			JobListHideArgsByDefault: true,
		})
		if err != nil {
			return nil, fmt.Errorf("ops: river UI: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return nil, fmt.Errorf("ops: river UI: %w", err)
		}
		mux.Handle("/riverui/", ui)
	} else {
		mux.HandleFunc("/riverui/", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "The job queue's UI needs SIGNOFF_METRICS_TOKEN to be set.", http.StatusNotFound)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Signoff operator endpoints: /metrics (Prometheus), /riverui/ (the job queue)")
	})
	var h http.Handler = mux
	if cfg.Token != "" {
		h = requireToken(cfg.Token, h)
	}
	return h, nil
}

// requireToken refuses requests that do not carry token.
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got string
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = strings.TrimSpace(bearer)
		} else if _, pass, ok := r.BasicAuth(); ok {
			got = pass
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Signoff operators", charset="UTF-8"`)
			http.Error(w, "This needs the operator's token.", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
