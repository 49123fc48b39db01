package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"signoff/internal/tracking"
	"signoff/templates"
)

// trackTrust is every school of the trust side by side, for trust admins.
func (s *Server) trackTrust(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	trust, schools, forms, err := s.trustFigures(r, v.school.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if trust == "" {
		trust = v.school.Name
	}
	view := templates.TrackTrustView{Layout: s.trackLayout(r, "Schools compared"), Trust: trust}
	// Each school's staff and parents apart, as on its own dashboard.
	bySchool := map[int64][]tracking.FormFigures{}
	for _, f := range forms {
		bySchool[f.SchoolID] = append(bySchool[f.SchoolID], f)
	}
	for _, sc := range schools {
		staff, parents := tracking.Headlines(bySchool[sc.SchoolID])
		row := templates.TrustSchoolRow{Name: sc.Name, Forms: sc.Forms, FormsDone: sc.FormsDone,
			Staff: headlineView(staff), Parents: headlineView(parents), Lowest: "—"}
		if sc.Lowest != "" {
			row.Lowest = fmt.Sprintf("%s (%d%%)", sc.Lowest, sc.LowestPct)
		}
		view.Schools = append(view.Schools, row)
	}
	for _, f := range forms {
		view.Forms = append(view.Forms, trackFormRow(f, ""))
	}
	s.render(w, r, http.StatusOK, templates.TrackTrustPage(view))
}

// trustTTL is how old the trust view's figures may be: working them out
// for every form of twenty schools takes a quarter of a second, so a
// trust refreshing the page (or many admins at once) reuse them briefly.
const trustTTL = 30 * time.Second

type trustEntry struct {
	at      time.Time
	trust   string
	schools []tracking.SchoolFigures
	forms   []tracking.FormFigures
}

// trustFigures returns the trust view's figures, computed at most once
// every trustTTL for each trust.
func (s *Server) trustFigures(r *http.Request, schoolID int64) (string, []tracking.SchoolFigures, []tracking.FormFigures, error) {
	s.trustMu.Lock()
	e, ok := s.trustCache[schoolID]
	s.trustMu.Unlock()
	if ok && time.Since(e.at) < trustTTL {
		return e.trust, e.schools, e.forms, nil
	}
	// Requests arriving together while the figures are worked out share
	// the one computation.
	v, err, _ := s.trustFlight.Do(fmt.Sprint(schoolID), func() (any, error) {
		trust, schools, forms, err := s.tracking.Trust(context.WithoutCancel(r.Context()), schoolID)
		if err != nil {
			return nil, err
		}
		e := trustEntry{at: time.Now(), trust: trust, schools: schools, forms: forms}
		s.trustMu.Lock()
		if s.trustCache == nil {
			s.trustCache = map[int64]trustEntry{}
		}
		s.trustCache[schoolID] = e
		s.trustMu.Unlock()
		return e, nil
	})
	if err != nil {
		return "", nil, nil, err
	}
	e = v.(trustEntry)
	return e.trust, e.schools, e.forms, nil
}
