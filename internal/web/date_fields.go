package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// parseDate is the one reader of a GOV.UK date input: a day, a month and
// a year typed into three boxes. It returns midnight UTC of that calendar
// day, or nil and no message when all three are empty (the caller, or the
// domain, decides whether the date is required and which dates are
// allowed). A two-digit year is this century's. what names the date in
// the messages: "The date of the meeting".
func parseDate(day, month, year, what string) (*time.Time, string) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	if day == "" && month == "" && year == "" {
		return nil, ""
	}
	d, errD := strconv.Atoi(day)
	m, errM := strconv.Atoi(month)
	y, errY := strconv.Atoi(year)
	if errD != nil || errM != nil || errY != nil {
		return nil, what + " must include a day, month and year, as numbers"
	}
	if y >= 0 && y < 100 {
		y += 2000
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m || t.Year() != y || y < 1900 || y > 2200 {
		return nil, what + " must be a real date"
	}
	return &t, ""
}

// formDate reads the date input called name (its fields name-day,
// name-month and name-year) from a posted form.
func formDate(r *http.Request, name, what string) (*time.Time, string) {
	return parseDate(r.PostFormValue(name+"-day"), r.PostFormValue(name+"-month"), r.PostFormValue(name+"-year"), what)
}
