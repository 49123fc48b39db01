package web

import (
	"fmt"
	"strings"
	"time"

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
