package reviews_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/jobs"
	"signoff/internal/jobs/jobstest"
	"signoff/internal/policies"
	"signoff/internal/reviews"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Two servers (two pools on one database, one clock) run the scheduler
// at the same moment, again later the same day, and on later days: each
// policy is flagged, and its owner emailed, once per state entered.
func TestSchedulerFlagsOnceAcrossTwoServers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	setClock := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
	db.Now = now
	res, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	other, err := database.Open(ctx, db.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	other.Now = now
	servers := []*reviews.Scheduler{{DB: db, BaseURL: "http://a.test"}, {DB: other, BaseURL: "http://b.test"}}

	id := func(q string, args ...any) int64 {
		var x int64
		if err := db.Pool.QueryRow(ctx, q, args...).Scan(&x); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return x
	}
	aup := id(`SELECT id FROM policies WHERE title = 'IT acceptable use policy (staff)'`)
	conf := id(`SELECT id FROM policies WHERE title = 'Data confidentiality agreement'`)
	head := id(`SELECT id FROM accounts WHERE email = 'hashcroft@hollybrook.example.sch.uk'`)
	// The AUP is owned by the head and due in 10 days; the agreement has
	// no owner (the office hears) and was due yesterday.
	if _, err := db.Pool.Exec(ctx, `UPDATE policies SET owner_account_id = $2, next_review_on = '2026-11-12' WHERE id = $1`, aup, head); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE policies SET next_review_on = '2026-11-01' WHERE id = $1`, conf); err != nil {
		t.Fatal(err)
	}
	runBoth := func() []reviews.Result {
		var wg sync.WaitGroup
		out := make([]reviews.Result, 2)
		errs := make([]error, 2)
		for i, s := range servers {
			wg.Go(func() { out[i], errs[i] = s.RunOnce(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	count := func(q string, args ...any) int { return int(id(q, args...)) }
	emails := func() int { return count(`SELECT count(*) FROM outbox WHERE kind = 'policy_review'`) }

	r := runBoth()
	if r[0].Skipped == r[1].Skipped {
		t.Fatalf("both or neither ran: %+v", r)
	}
	ran := r[0]
	if r[0].Skipped {
		ran = r[1]
	}
	if ran.DueSoon != 1 || ran.Overdue != 1 {
		t.Fatalf("first run: %+v", ran)
	}
	if n := emails(); n != 2 {
		t.Fatalf("emails after the first run: %d, want 2 (the head for the AUP and for the agreement)", n)
	}
	if count(`SELECT count(*) FROM outbox WHERE kind = 'policy_review' AND to_address = 'hashcroft@hollybrook.example.sch.uk' AND subject LIKE 'Review due by 12 November 2026%'`) != 1 {
		t.Fatal("the owner was not told the AUP is due soon")
	}
	// The agreement has no owner: the headteacher is told (the office only
	// when a school has no head).
	if count(`SELECT count(*) FROM outbox WHERE kind = 'policy_review' AND to_address = 'hashcroft@hollybrook.example.sch.uk' AND subject LIKE 'Review overdue:%'`) != 1 {
		t.Fatal("the head was not told the agreement is overdue")
	}

	// Later the same day, and after a restart: nothing more.
	setClock(clock.Add(8 * time.Hour))
	for _, x := range runBoth() {
		if !x.Skipped {
			t.Fatalf("ran twice in a day: %+v", x)
		}
	}
	restarted := &reviews.Scheduler{DB: db}
	if x, err := restarted.RunOnce(ctx); err != nil || !x.Skipped {
		t.Fatalf("after a restart: %+v %v", x, err)
	}

	// The next days: still due soon and overdue, nobody emailed again.
	for day := 1; day <= 9; day++ {
		setClock(time.Date(2026, 11, 2+day, 6, 0, 0, 0, time.UTC))
		runBoth()
	}
	if n := emails(); n != 2 {
		t.Fatalf("emails after ten days: %d, want still 2", n)
	}
	// 13 November: the AUP becomes overdue, once.
	setClock(time.Date(2026, 11, 13, 6, 0, 0, 0, time.UTC))
	r = runBoth()
	if r[0].Overdue+r[1].Overdue != 1 || emails() != 3 {
		t.Fatalf("AUP overdue: %+v, emails %d", r, emails())
	}
	setClock(time.Date(2026, 11, 14, 6, 0, 0, 0, time.UTC))
	runBoth()
	if emails() != 3 {
		t.Fatal("an overdue policy was emailed about again")
	}
	if n := count(`SELECT count(*) FROM job_runs WHERE job = $1`, reviews.Job); n != 12 {
		t.Fatalf("job runs: %d, want one per day run (12)", n)
	}

	// Reviewed with no changes: the date moves on a year and it is up to
	// date; a year later it is due soon again and the owner hears again.
	d := time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC)
	if _, err := policies.NewStore(db).RecordNoChangeReview(ctx, res.School.ID, aup, audit.System("test"),
		policies.ReviewInput{MeetingInput: policies.MeetingInput{Date: &d, Body: "Full Governing Body"}}); err != nil {
		t.Fatal(err)
	}
	due, err := policies.DueForReview(ctx, db.Pool, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Title != "Data confidentiality agreement" || due[0].Status != policies.Overdue {
		t.Fatalf("due after the review: %+v", due)
	}
	// The same rule for one school, and for the page's status: what the
	// list says is what policies.DateStatus says.
	mine, err := policies.DueForReview(ctx, db.Pool, d, res.School.ID)
	if err != nil || len(mine) != 1 || mine[0].PolicyID != due[0].PolicyID {
		t.Fatalf("due for the demo school: %+v %v", mine, err)
	}
	if none, _ := policies.DueForReview(ctx, db.Pool, d, res.School.ID+1000); len(none) != 0 {
		t.Fatalf("another school's list has the demo's policies: %+v", none)
	}
	setClock(time.Date(2027, 10, 20, 6, 0, 0, 0, time.UTC))
	runBoth()
	if count(`SELECT count(*) FROM outbox WHERE kind = 'policy_review' AND subject LIKE 'Review due by 14 November 2027%'`) != 1 {
		t.Fatal("the next cycle's due-soon email was not sent")
	}
}

func TestScanRunsOnceOnRiverAcrossTwoServers(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	var runs, done int
	jobstest.OnTwoServers(t, db, func(reg *jobs.Registry, d *database.DB) {
		jobs.Add(reg, &reviews.Worker{Scheduler: &reviews.Scheduler{DB: d}})
		reg.Every("review_scan", time.Hour, reviews.ScanArgs{})
	}, func() bool {
		_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE job = 'policy_reviews'`).Scan(&runs)
		_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'review_scan' AND state = 'completed'`).Scan(&done)
		return runs > 0 && done > 0
	})
	if runs != 1 || done != 1 {
		t.Fatalf("two servers: %d review runs and %d completed review_scan jobs, want 1 and 1", runs, done)
	}
}

func TestICS(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Safeguarding, child protection; and “online” safety – ", 4)
	out := reviews.ICS("Hollybrook: policy reviews", time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC), []reviews.Event{
		{UID: "policy-1-review-20270901@signoff.test", Date: time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC), Summary: long, Description: "Line one\nLine two", URL: "http://signoff.test/policies/1"},
	})
	if !strings.HasSuffix(out, "END:VCALENDAR\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatal("lines must end with CRLF")
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets (%d): %q", len(l), l)
		}
	}
	for _, want := range []string{"DTSTART;VALUE=DATE:20270901\r\n", "DTEND;VALUE=DATE:20270902\r\n", "DTSTAMP:20261102T093000Z\r\n",
		"UID:policy-1-review-20270901@signoff.test\r\n", `DESCRIPTION:Line one\nLine two`, "VERSION:2.0\r\n", "PRODID:"} {
		if !strings.Contains(out, want) {
			t.Errorf("ICS lacks %q:\n%s", want, out)
		}
	}
	unfolded := strings.ReplaceAll(out, "\r\n ", "")
	if !strings.Contains(unfolded, `SUMMARY:Safeguarding\, child protection\; and “online” safety`) {
		t.Errorf("escaping or folding broke the summary:\n%s", unfolded)
	}
}
