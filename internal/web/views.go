package web

import (
	"fmt"
	"strings"
	"time"

	"signoff/internal/i18n"
	"signoff/internal/people"
	"signoff/internal/schooltime"
)

// versionLabel reads "Version 2, published 3 November 2026".
func versionLabel(number int, publishedAt *time.Time) string {
	if publishedAt == nil {
		return fmt.Sprintf("Version %d", number)
	}
	return fmt.Sprintf("Version %d, published %s", number, schooltime.Date(*publishedAt))
}

// audienceLabel lists staff roles: "Teachers, teaching assistants and governors".
func audienceLabel(roles []people.StaffRole) string {
	var names []string
	for _, r := range roles {
		names = append(names, strings.ToLower(r.Label()))
	}
	if len(names) == 0 {
		return "Nobody"
	}
	out := names[0]
	if len(names) > 1 {
		out = strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return strings.ToUpper(out[:1]) + out[1:]
}

// cycleLabel reads "Every year", "Every 2 years".
func cycleLabel(years int) string {
	if years == 1 {
		return "Every year"
	}
	return fmt.Sprintf("Every %d years", years)
}

// orDash shows an empty value as a dash.
func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// classLabel is a child's year group and class, in English.
func classLabel(p people.Person) string { return classLabelIn(i18n.English, p) }

// classLabelIn is a child's year group and class in the parent's language.
func classLabelIn(lang i18n.Lang, p people.Person) string {
	switch {
	case p.YearGroup != nil && p.RegClass != "":
		return lang.T("%s, class %s", lang.YearGroup(int(*p.YearGroup)), p.RegClass)
	case p.YearGroup != nil:
		return lang.YearGroup(int(*p.YearGroup))
	case p.RegClass != "":
		return lang.T("class %s", p.RegClass)
	}
	return ""
}

// dueLabel says when a form is due to be signed ("" for no date), and
// whether it is overdue at now: after the whole of its due day.
func dueLabel(due *time.Time, now time.Time) (string, bool) {
	if due == nil {
		return "", false
	}
	if now.After(due.AddDate(0, 0, 1)) {
		return "Overdue: this was due by " + due.Format("2 January 2006"), true
	}
	return "Please sign by " + due.Format("2 January 2006"), false
}
