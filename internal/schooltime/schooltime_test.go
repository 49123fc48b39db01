package schooltime_test

import (
	"testing"
	"time"

	"signoff/internal/schooltime"
)

func TestAcademicYear(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 9, 1, 0, 0, 0, 0, schooltime.London), 2026},
		{time.Date(2027, 8, 31, 23, 59, 0, 0, schooltime.London), 2026},
		// 23:30 UTC on 31 August is already September in London (BST).
		{time.Date(2026, 8, 31, 23, 30, 0, 0, time.UTC), 2026},
		{time.Date(2026, 8, 31, 22, 30, 0, 0, time.UTC), 2025},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 2026},
	} {
		if got := schooltime.AcademicYear(c.at); got != c.want {
			t.Errorf("%s: %d, want %d", c.at, got, c.want)
		}
	}
	for year, want := range map[int]string{2026: "2026/27", 2099: "2099/00", 2009: "2009/10"} {
		if got := schooltime.AcademicYearLabel(year); got != want {
			t.Errorf("%d: %q, want %q", year, got, want)
		}
	}
}

func TestFormatsInLondon(t *testing.T) {
	t.Parallel()
	summer := time.Date(2026, 6, 30, 13, 5, 0, 0, time.UTC) // 14:05 BST
	winter := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
	if got := schooltime.DateTime(summer); got != "30 June 2026 at 2:05pm" {
		t.Errorf("summer: %q", got)
	}
	if got := schooltime.DateTimeZone(summer); got != "30 June 2026 at 14:05 BST" {
		t.Errorf("summer with zone: %q", got)
	}
	if got := schooltime.DateTimeZone(winter); got != "30 November 2026 at 23:30 GMT" {
		t.Errorf("winter with zone: %q", got)
	}
	// Just after midnight in London is the next day, whatever UTC says.
	if got := schooltime.Date(time.Date(2026, 7, 1, 23, 30, 0, 0, time.UTC)); got != "2 July 2026" {
		t.Errorf("date: %q", got)
	}
}
