package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database"
	"signoff/internal/schooltime"
)

// FormPage is what a form's dashboard shows: its figures, its figures
// by group, its trend and one page of its signed or outstanding list.
type FormPage struct {
	Form     FormFigures
	Groups   []GroupFigures
	Trend    []Point
	Weekly   bool // the trend is per week
	Rows     []Row
	Matching int // rows matching the list's query in all
}

// FormPage reads the dashboard of form q.FormID of school q.SchoolID in
// one round trip (one snapshot): Form, Groups, Trend and List's reads
// sent together, with the reads more queues (another package's part of
// the page). Another school's form, or a closed one, is not found.
func (s *Store) FormPage(ctx context.Context, q ListQuery, more ...func(*database.Reads)) (FormPage, error) {
	now := s.db.Now()
	ay := schooltime.AcademicYear(now)
	var (
		p      FormPage
		forms  []FormFigures
		perDay map[time.Time]int
		r      database.Reads
	)
	queueForm(&r, q.SchoolID, q.FormID, ay, &forms)
	r.Rows(groupsSQL, []any{q.SchoolID, q.FormID, ay}, func(rows pgx.Rows) (err error) {
		p.Groups, err = pgx.CollectRows(rows, scanGroup)
		return err
	})
	r.Rows(trendSQL, []any{q.SchoolID, q.FormID, ay}, func(rows pgx.Rows) (err error) {
		perDay, err = readDays(rows)
		return err
	})
	s.queueList(&r, q, &p.Rows, &p.Matching)
	for _, m := range more {
		m(&r)
	}
	if err := s.db.Send(ctx, &r); err != nil {
		return FormPage{}, fmt.Errorf("tracking: form page: %w", err)
	}
	f, err := theForm(forms)
	if err != nil {
		return FormPage{}, err
	}
	p.Form = f
	sortGroups(p.Groups)
	p.Trend, p.Weekly = trend(p.Form, perDay, now)
	return p, nil
}
