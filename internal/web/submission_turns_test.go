package web_test

import (
	"context"
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
