package tracking

// The figures by group and the trend, each read on its own: FormPage
// reads both with the rest of a form's dashboard in one round trip, and
// the tests hold its answers to these.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"signoff/internal/schooltime"
)

// Groups returns a form's figures by group, in the order staff roles
// are listed everywhere else (classes by name).
func (s *Store) Groups(ctx context.Context, schoolID, formID int64) ([]GroupFigures, error) {
	rows, err := s.db.Pool.Query(ctx, groupsSQL, schoolID, formID, schooltime.AcademicYear(s.db.Now()))
	if err != nil {
		return nil, fmt.Errorf("tracking: groups: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanGroup)
	if err != nil {
		return nil, fmt.Errorf("tracking: groups: %w", err)
	}
	sortGroups(out)
	return out, nil
}

// Trend returns the cumulative signatures that count now, per day from
// the form's publication to today, or per week when that is more than 31
// days.
func (s *Store) Trend(ctx context.Context, f FormFigures) (points []Point, weekly bool, err error) {
	now := s.db.Now()
	rows, err := s.db.Pool.Query(ctx, trendSQL, f.SchoolID, f.FormID, schooltime.AcademicYear(now))
	if err != nil {
		return nil, false, fmt.Errorf("tracking: trend: %w", err)
	}
	perDay, err := readDays(rows)
	if err != nil {
		return nil, false, fmt.Errorf("tracking: trend: %w", err)
	}
	points, weekly = trend(f, perDay, now)
	return points, weekly, nil
}
