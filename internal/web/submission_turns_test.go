package web_test

import (
	"context"
	"log/slog"
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

// With every turn to save taken, a signature waits for one: it is saved
// once a turn is free, and a request that runs out of time while waiting
// saves nothing and says so.
func TestSubmissionsWaitTheirTurn(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", SubmissionsAtOnce: 1, RequestTimeout: 2 * time.Second})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	a := &app{t: t, db: db, srv: srv, ts: ts}
	staff := a.signedIn(demo.StaffEmail)
	form := a.formID(aup)
	sign := url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}}
	signed := func() int {
		var n int
		if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signatures s JOIN people p ON p.id = s.person_id
			WHERE p.email = $1 AND s.form_id = $2`, demo.StaffEmail, form).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	release, err := srv.TakeTurn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Out of time while waiting: the 503 page, and nothing saved.
	late := staff.post("/forms/"+itoa(form), sign)
	if late.status != http.StatusServiceUnavailable || !strings.Contains(late.body, "has not been saved") {
		t.Fatalf("waiting past the request's time: %d\n%.600s", late.status, late.body)
	}
	if n := signed(); n != 0 {
		t.Fatalf("a submission that never had its turn saved %d signatures", n)
	}

	// Waiting, then saved once the turn is free.
	done := make(chan response, 1)
	go func() { done <- staff.post("/forms/"+itoa(form), sign) }()
	select {
	case res := <-done:
		t.Fatalf("answered while every turn was taken: %d", res.status)
	case <-time.After(300 * time.Millisecond):
	}
	if n := signed(); n != 0 {
		t.Fatalf("saved while every turn was taken: %d signatures", n)
	}
	release()
	res := <-done
	if res.status != http.StatusSeeOther || !refRE.MatchString(res.location) {
		t.Fatalf("sign after the turn was freed: %d %q\n%.600s", res.status, res.location, res.body)
	}
	if n := signed(); n != 1 {
		t.Fatalf("%d signatures after the turn, want 1", n)
	}
}

// A browser that goes away while its signature waits for a turn (closed,
// or the form sent again) saves nothing, and the server logs it as that,
// not as a failure.
func TestSubmissionOfAGoneBrowserIsNoFailure(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	srv := web.New(db, web.Config{SessionKeys: testKeys, BaseURL: "http://signoff.test", SubmissionsAtOnce: 1,
		Log: slog.New(slog.NewTextHandler(&log, nil))})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	a := &app{t: t, db: db, srv: srv, ts: ts}
	staff := a.signedIn(demo.StaffEmail)
	form := a.formID(aup)
	release, err := srv.TakeTurn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sign := url.Values{"version_id": {itoa(a.versionID(form))}, "agree": {"yes"}, "typed_name": {"Daniel Okafor"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/forms/"+itoa(form), strings.NewReader(sign.Encode()))
	req.Header.Set("Content-Type", formType)
	if res, err := staff.http.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("answered while every turn was taken: %d", res.StatusCode)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), "request ended by the browser"); {
		if time.Now().After(deadline) {
			t.Fatalf("the server never noticed the browser had gone:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := log.String(); strings.Contains(out, "level=ERROR") {
		t.Errorf("a gone browser was logged as a failure:\n%s", out)
	}
	// What it is answered (no browser is left to read it).
	gone, leave := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, leave)
	req = httptest.NewRequestWithContext(gone, http.MethodPost, "/forms/"+itoa(form), strings.NewReader(sign.Encode()))
	req.Header.Set("Content-Type", formType)
	u, _ := url.Parse(ts.URL)
	for _, c := range staff.http.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 499 || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("answered %d:\n%s", rec.Code, log.String())
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signatures s JOIN people p ON p.id = s.person_id
		WHERE p.email = $1 AND s.form_id = $2`, demo.StaffEmail, form).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d signatures saved for a browser that went away (%v)", n, err)
	}
}
