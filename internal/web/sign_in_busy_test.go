package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"signoff/internal/auth"
	"signoff/internal/demo"
)

// TestManySignInsAtOnceAreBounded: fifty sign-ins at once never run more
// password hashes than the bound allows (each holds 19 MiB); the ones the
// queue cannot hold get a clear 503 page with Retry-After, never a 500,
// and signing in works again straight after. Not parallel: the bound is
// the process's, and the other tests' sign-ins must not meet the flood.
func TestManySignInsAtOnceAreBounded(t *testing.T) {
	a := newApp(t)
	rows, err := a.db.Pool.Query(context.Background(), `SELECT email FROM accounts WHERE password_hash IS NOT NULL AND email IS NOT NULL ORDER BY id LIMIT 50`)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		emails = append(emails, e)
	}
	rows.Close()
	// Unknown addresses are checked against a dummy hash: they count too.
	for i := 0; len(emails) < 50; i++ {
		emails = append(emails, "nobody"+strconv.Itoa(i)+"@example.org")
	}
	limits := auth.PasswordHashing().HashingLimits
	if limits.Running+limits.Queued >= len(emails) {
		t.Fatalf("the bound (%d running, %d queued) holds all %d sign-ins: the test proves nothing", limits.Running, limits.Queued, len(emails))
	}

	results := make([]response, len(emails))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, e := range emails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a.client()
			<-start
			results[i] = c.post("/sign-in", url.Values{"email": {e}, "password": {demo.Password}})
		}()
	}
	close(start)
	wg.Wait()

	count := map[int]int{}
	for i, res := range results {
		count[res.status]++
		switch res.status {
		case http.StatusSeeOther, http.StatusUnauthorized:
		case http.StatusServiceUnavailable:
			if res.header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", emails[i])
			}
			if !strings.Contains(res.body, "Signoff is busy") || !strings.Contains(res.body, "try again") {
				t.Errorf("%s: the busy page does not say what to do:\n%s", emails[i], res.body)
			}
		default:
			t.Errorf("%s: status %d\n%s", emails[i], res.status, res.body)
		}
	}
	if count[http.StatusServiceUnavailable] == 0 || count[http.StatusSeeOther] == 0 {
		t.Errorf("want some sign-ins through and some turned away, got %v", count)
	}
	load := auth.PasswordHashing()
	if load.Peak > limits.Running || load.Peak == 0 {
		t.Errorf("%d hashes ran at once; the bound is %d", load.Peak, limits.Running)
	}
	if load.Turned < int64(count[http.StatusServiceUnavailable]) {
		t.Errorf("%d turned away but the bound counted %d", count[http.StatusServiceUnavailable], load.Turned)
	}
	// Nothing is left held: the next sign-in goes straight through.
	a.signedIn(demo.StaffEmail)
	t.Logf("%v; peak %d hashes at once", count, load.Peak)
}
