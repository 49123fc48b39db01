package ops_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database/dbtest"
	"signoff/internal/jobs"
	"signoff/internal/mail"
	"signoff/internal/metrics"
	"signoff/internal/ops"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func get(t *testing.T, url string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if set != nil {
		set(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The operator's listener: metrics and the job queue's UI, both behind
// the token; the figures come from the database and the request hook.
func TestOperatorEndpoints(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		_, _, err := mail.Enqueue(ctx, tx, db.Now(), mail.Message{To: "p@example.org", Subject: "Hello", Text: "Hi.", Kind: "test"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := jobs.NewRegistry()
	jobs.Add(reg, &mail.SendWorker{Sender: mail.NewSender(db, mail.Config{}, nil)})
	client, err := jobs.New(db, reg, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(db)
	m.ObserveRequest("GET", "/admin/outbox/{messageID}", 404, 30*time.Millisecond)
	m.WatchPageCache(func() (uint64, uint64, int64) { return 7, 3, 4096 })
	uiCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	const token = "operator-token-0123456789"
	h, err := ops.New(uiCtx, ops.Config{Metrics: m, River: client.River(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()

	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if code, _ := get(t, ts.URL+"/metrics", nil); code != http.StatusUnauthorized {
		t.Fatalf("metrics without the token: %d, want 401", code)
	}
	if code, _ := get(t, ts.URL+"/metrics", bearer("operator-token-wrong-456789")); code != http.StatusUnauthorized {
		t.Fatalf("metrics with a wrong token: %d, want 401", code)
	}
	code, body := get(t, ts.URL+"/metrics", bearer(token))
	if code != 200 {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
	for _, want := range []string{
		`signoff_http_requests_total{method="GET",route="/admin/outbox/{messageID}",status="404"} 1`,
		`signoff_http_request_duration_seconds_bucket{method="GET",route="/admin/outbox/{messageID}",le="0.05"} 1`,
		`signoff_jobs{kind="mail_send",state="available"} 1`,
		"signoff_outbox_waiting 1",
		"signoff_audit_anchors_pending 0",
		"signoff_db_pool_max_conns 20",
		"signoff_db_scrape_errors 0",
		`signoff_page_cache_requests_total{result="hit"} 7`,
		`signoff_page_cache_requests_total{result="miss"} 3`,
		"signoff_page_cache_bytes 4096",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	basic := func(r *http.Request) { r.SetBasicAuth("operator", token) }
	if code, _ := get(t, ts.URL+"/riverui/", nil); code != http.StatusUnauthorized {
		t.Fatalf("the UI without the token: %d, want 401", code)
	}
	if code, page := get(t, ts.URL+"/riverui/", basic); code != 200 || !strings.Contains(page, "<html") {
		t.Fatalf("the UI: %d\n%s", code, page)
	}
	code, api := get(t, ts.URL+"/riverui/api/jobs?state=available", basic)
	if code != 200 || !strings.Contains(api, `"mail_send"`) {
		t.Fatalf("the UI's job list: %d\n%s", code, api)
	}
}

// Without a token the metrics are served (on an address the operator
// keeps private) but the UI, which can retry and cancel jobs, is off.
func TestNoTokenNoUI(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	client, err := jobs.New(db, jobs.NewRegistry(), jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ops.New(context.Background(), ops.Config{Metrics: metrics.New(db), River: client.River()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	if code, body := get(t, ts.URL+"/metrics", nil); code != 200 || !strings.Contains(body, "signoff_db_pool_max_conns") {
		t.Fatalf("metrics: %d", code)
	}
	if code, _ := get(t, ts.URL+"/riverui/", nil); code != http.StatusNotFound {
		t.Fatalf("the UI without a token: %d, want 404", code)
	}
}
