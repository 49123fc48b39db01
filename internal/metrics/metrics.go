// Package metrics is what Signoff tells Prometheus
// (github.com/prometheus/client_golang), on the operator's listener only
// (SIGNOFF_METRICS_ADDR, see internal/ops):
//
//	signoff_http_requests_total{method,route,status}       requests, by route pattern (never the raw path)
//	signoff_http_request_duration_seconds{method,route}    latency histogram
//	signoff_db_pool_*                                      the connection pool (pgxpool.Stat)
//	signoff_jobs{kind,state}                               River's jobs: queued (available, scheduled, retryable), running, discarded, ...
//	signoff_outbox_waiting, signoff_outbox_oldest_waiting_seconds   the mail backlog
//	signoff_audit_anchors_pending                          anchors still waiting for their time stamp
//	signoff_obligation_differences                         rows the last nightly check of who owes what found wrong (0 expected)
//	signoff_page_cache_requests_total{result}              dashboards served from the page cache (hit) or built (miss)
//	signoff_page_cache_bytes                               the bytes of the pages it keeps now
//
// plus the Go runtime's and the process's own. The database figures are
// read when Prometheus scrapes, with a 5-second limit. The registry is
// the Metrics value's own, not the global one.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"signoff/internal/database"
	"signoff/internal/jobs"
)

// Metrics holds the registry and the request metrics.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New registers every metric for db.
func New(db *database.DB) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signoff_http_requests_total", Help: "HTTP requests served, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "signoff_http_request_duration_seconds", Help: "Time to serve an HTTP request, by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&dbCollector{db: db})
	return m
}

// ObserveRequest counts one served request. route is the route pattern
// ("/admin/outbox/{messageID}"), so that ids never become labels.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// WatchPageCache reports the web's page cache (web.Server.PageCacheStats)
// at each scrape: its hits and misses since the start, and its bytes.
func (m *Metrics) WatchPageCache(stats func() (hits, misses uint64, bytes int64)) {
	m.Registry.MustRegister(pageCacheCollector(stats))
}

var (
	pageCacheRequests = prometheus.NewDesc("signoff_page_cache_requests_total", "Requests of cached pages: served from the page cache (hit) or built (miss).", []string{"result"}, nil)
	pageCacheBytes    = prometheus.NewDesc("signoff_page_cache_bytes", "Bytes of the pages the page cache keeps.", nil, nil)
)

type pageCacheCollector func() (hits, misses uint64, bytes int64)

func (c pageCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pageCacheRequests
	ch <- pageCacheBytes
}

func (c pageCacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses, bytes := c()
	ch <- prometheus.MustNewConstMetric(pageCacheRequests, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(pageCacheRequests, prometheus.CounterValue, float64(misses), "miss")
	ch <- prometheus.MustNewConstMetric(pageCacheBytes, prometheus.GaugeValue, float64(bytes))
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, Timeout: 10 * time.Second})
}

var (
	poolDesc = map[string]*prometheus.Desc{
		"acquired":     prometheus.NewDesc("signoff_db_pool_acquired_conns", "Connections in use.", nil, nil),
		"idle":         prometheus.NewDesc("signoff_db_pool_idle_conns", "Idle connections.", nil, nil),
		"total":        prometheus.NewDesc("signoff_db_pool_total_conns", "Open connections.", nil, nil),
		"max":          prometheus.NewDesc("signoff_db_pool_max_conns", "The pool's size.", nil, nil),
		"acquires":     prometheus.NewDesc("signoff_db_pool_acquires_total", "Connections handed out.", nil, nil),
		"empty":        prometheus.NewDesc("signoff_db_pool_empty_acquires_total", "Times a request for a connection had to wait.", nil, nil),
		"acquire_wait": prometheus.NewDesc("signoff_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections.", nil, nil),
	}
	jobsDesc        = prometheus.NewDesc("signoff_jobs", "River jobs, by kind and state.", []string{"kind", "state"}, nil)
	outboxWaiting   = prometheus.NewDesc("signoff_outbox_waiting", "Emails not yet sent (due, or waiting for a retry).", nil, nil)
	outboxOldest    = prometheus.NewDesc("signoff_outbox_oldest_waiting_seconds", "Age of the oldest email not yet sent (0 when none waits).", nil, nil)
	anchorsPending  = prometheus.NewDesc("signoff_audit_anchors_pending", "Audit anchors still waiting for their time stamp.", nil, nil)
	obligationDiffs = prometheus.NewDesc("signoff_obligation_differences", "Obligations the last nightly check found different from the derivation (and put right).", nil, nil)
	scrapeErrorDesc = prometheus.NewDesc("signoff_db_scrape_errors", "Database figures that could not be read in this scrape.", nil, nil)
)

// dbCollector reads the pool's statistics and the database figures.
type dbCollector struct{ db *database.DB }

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range poolDesc {
		ch <- d
	}
	ch <- jobsDesc
	ch <- outboxWaiting
	ch <- outboxOldest
	ch <- anchorsPending
	ch <- obligationDiffs
	ch <- scrapeErrorDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.db.Pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolDesc["acquired"], float64(st.AcquiredConns()))
	gauge(poolDesc["idle"], float64(st.IdleConns()))
	gauge(poolDesc["total"], float64(st.TotalConns()))
	gauge(poolDesc["max"], float64(st.MaxConns()))
	counter(poolDesc["acquires"], float64(st.AcquireCount()))
	counter(poolDesc["empty"], float64(st.EmptyAcquireCount()))
	counter(poolDesc["acquire_wait"], st.AcquireDuration().Seconds())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failed := 0
	if counts, err := jobs.Counts(ctx, c.db); err == nil {
		for _, n := range counts {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n.N), n.Kind, n.State)
		}
	} else {
		failed++
	}
	var waiting int64
	var oldest *time.Time
	if err := c.db.Pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&waiting, &oldest); err == nil {
		gauge(outboxWaiting, float64(waiting))
		age := 0.0
		if oldest != nil {
			age = max(0, c.db.Now().Sub(*oldest).Seconds())
		}
		gauge(outboxOldest, age)
	} else {
		failed++
	}
	var pending int64
	if err := c.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_anchors WHERE tsa_token IS NULL AND tsa_url <> ''`).Scan(&pending); err == nil {
		gauge(anchorsPending, float64(pending))
	} else {
		failed++
	}
	var diffs int64
	if err := c.db.Pool.QueryRow(ctx, `SELECT coalesce((SELECT differences FROM obligation_checks ORDER BY id DESC LIMIT 1), 0)`).Scan(&diffs); err == nil {
		gauge(obligationDiffs, float64(diffs))
	} else {
		failed++
	}
	gauge(scrapeErrorDesc, float64(failed))
}
