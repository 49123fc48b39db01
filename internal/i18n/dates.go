package i18n

import (
	"strconv"
	"time"

	"signoff/internal/schooltime"
)

// Month names as a date uses them: Polish in the genitive ("1 grudnia
// 2026"), Arabic as used in Britain and Egypt.
var months = map[string][12]string{
	"pl": {"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
	"ar": {"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
}

// Date is t's date in London in the language: "1 December 2026",
// "1 grudnia 2026", "1 ديسمبر 2026".
func (l Lang) Date(t time.Time) string {
	t = t.In(schooltime.London)
	names, ok := months[l.Code]
	if !ok {
		return t.Format("2 January 2006")
	}
	return strconv.Itoa(t.Day()) + " " + names[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// DateTime is t's date and 24-hour time in London, with the zone:
// "1 December 2026 at 14:05 GMT", "1 grudnia 2026, 14:05 GMT".
func (l Lang) DateTime(t time.Time) string {
	lt := t.In(schooltime.London)
	return l.T("%s at %s", l.Date(t), lt.Format("15:04 MST"))
}

// YearGroup names a year group (-2 nursery 1, -1 nursery, 0 reception,
// 1–14) in the language.
func (l Lang) YearGroup(y int) string {
	switch {
	case y == -2:
		return l.T("Nursery 1")
	case y == -1:
		return l.T("Nursery")
	case y == 0:
		return l.T("Reception")
	}
	return l.T("Year %d", y)
}
