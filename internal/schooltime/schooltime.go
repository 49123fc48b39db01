// Package schooltime knows how schools in England count time: stored in
// UTC, shown in Europe/London, academic years from September to August.
package schooltime

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/London even where the system has no zoneinfo
)

// London is the Europe/London time zone.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// AcademicYear returns the year in which the academic year containing t
// began: 1 September 2026 to 31 August 2027 is 2026.
func AcademicYear(t time.Time) int {
	l := t.In(London)
	if l.Month() >= time.September {
		return l.Year()
	}
	return l.Year() - 1
}

// AcademicYearLabel writes year as "2026/27".
func AcademicYearLabel(year int) string { return fmt.Sprintf("%d/%02d", year, (year+1)%100) }

// Date formats t as "30 November 2026" in London.
func Date(t time.Time) string { return t.In(London).Format("2 January 2006") }

// DateTime formats t as "30 November 2026 at 2:05pm" in London.
func DateTime(t time.Time) string { return t.In(London).Format("2 January 2006 at 3:04pm") }

// DateTimeZone formats t with its zone abbreviation: "30 November 2026 at 14:05 GMT".
func DateTimeZone(t time.Time) string { return t.In(London).Format("2 January 2006 at 15:04 MST") }
