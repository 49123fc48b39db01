package tracking_test

import (
	"testing"

	"signoff/internal/tracking"
)

func TestHeadlinesKeepStaffAndParentsApart(t *testing.T) {
	staff, parents := tracking.Headlines([]tracking.FormFigures{
		{Audience: 40, Signed: 30},
		{Audience: 40, Signed: 40},
		{ForParents: true, Audience: 400, Signed: 100, Withdrawn: 20},
	})
	if staff.ForParents || staff.Forms != 2 || staff.FormsDone != 1 || staff.Audience != 80 || staff.Signed != 70 || staff.Outstanding() != 10 || staff.Percent() != 87 {
		t.Errorf("staff: %+v %d%%", staff, staff.Percent())
	}
	if !parents.ForParents || parents.Forms != 1 || parents.FormsDone != 0 || parents.Outstanding() != 280 || parents.Percent() != 25 || parents.Withdrawn != 20 {
		t.Errorf("parents: %+v %d%%", parents, parents.Percent())
	}
	if none, _ := tracking.Headlines(nil); none.Forms != 0 || none.Percent() != 100 {
		t.Errorf("no forms: %+v", none)
	}
}
