package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/web"
)

// A request that runs out of time gets the "taking too long" page with 503,
// not a bare 500: the page is rendered after the request's context ended.
func TestOutOfTimeIsA503Page(t *testing.T) {
	db := dbtest.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", RequestTimeout: time.Nanosecond})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	// Pages that cannot answer without the database.
	for _, path := range []string{"/f/not-a-real-link-0123456789", "/sign-in"} {
		var res *http.Response
		var err error
		if path == "/sign-in" {
			res, err = http.PostForm(ts.URL+path, url.Values{"email": {"head@example.org"}, "password": {"wrong password"}})
		} else {
			res, err = http.Get(ts.URL + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "This is taking too long") {
			t.Errorf("%s out of time: %d, want 503 with the taking-too-long page\n%.400s", path, res.StatusCode, body)
		}
	}
}
