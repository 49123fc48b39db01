package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"signoff/internal/demo"
)

// TestDueDateOnHomeAndSignPage: a form's due date reads the same on the
// member of staff's documents and on the form itself, "Please sign by"
// until the end of the due day and "Overdue" after it.
func TestDueDateOnHomeAndSignPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	form := a.formID(aup)
	staff := a.signedIn(demo.StaffEmail)
	london, _ := time.LoadLocation("Europe/London")
	for _, c := range []struct {
		days int
		want string
	}{{3, "Please sign by "}, {0, "Please sign by "}, {-2, "Overdue: this was due by "}} {
		due := time.Now().In(london).AddDate(0, 0, c.days)
		if _, err := a.db.Pool.Exec(context.Background(), `UPDATE forms SET due_on = $1 WHERE id = $2`, due.Format("2006-01-02"), form); err != nil {
			t.Fatal(err)
		}
		want := c.want + due.Format("2 January 2006")
		if home := staff.get("/"); !strings.Contains(home.body, want) {
			t.Errorf("due in %d days: the documents page lacks %q", c.days, want)
		}
		if page := staff.get("/forms/" + itoa(form)); !strings.Contains(page.body, want) {
			t.Errorf("due in %d days: the form lacks %q", c.days, want)
		}
	}
}
