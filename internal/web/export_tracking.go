package web

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"signoff/internal/apperr"
	"signoff/internal/evidence"
	"signoff/internal/pdf"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/internal/signkey"
	"signoff/internal/spreadsheet"
	"signoff/internal/tracking"
)

// trackExport sends a form's (or, without a form, every open form's)
// signed or outstanding list as CSV or XLSX: ?list=signed|outstanding&format=csv|xlsx.
func (s *Server) trackExport(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	q := r.URL.Query()
	signed := q.Get("list") == "signed"
	name := "all-forms"
	var t spreadsheet.Table
	var err error
	if chi.URLParam(r, "formID") != "" {
		var formID int64
		if formID, err = idParam(r, "formID"); err != nil {
			s.fail(w, r, err)
			return
		}
		// The form's title (not found unless open and the school's)
		// and its list in one round trip.
		var title string
		title, t, err = s.tracking.ExportForm(r.Context(), v.school.ID, formID, signed)
		name = slug(title)
	} else {
		t, err = s.tracking.ExportList(r.Context(), v.school.ID, 0, signed)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list := "still-to-sign"
	if signed {
		list = "signatures"
	}
	s.sendTable(w, r, fmt.Sprintf("%s-%s-%s-%s", slug(v.school.Name), name, list, s.db.Now().In(schooltime.London).Format("2006-01-02")), q.Get("format"), t)
}

// sendTable sends t as a download called name, as CSV or (format
// "xlsx") an Excel workbook.
func (s *Server) sendTable(w http.ResponseWriter, r *http.Request, name, format string, t spreadsheet.Table) {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	var err error
	ctype := "text/csv; charset=utf-8"
	if format == "xlsx" {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = spreadsheet.WriteXLSX(buf, t)
	} else {
		format = "csv"
		err = spreadsheet.WriteCSV(buf, t)
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("web: export: %w", err))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// trackZip streams a ZIP of every signed copy of a form: a few PDFs are
// rendered at once (evidence.Store.RenderAll), each written straight into
// the archive on the wire in turn, so a thousand copies never sit in
// memory together.
func (s *Server) trackZip(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	f, err := s.trackedForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, formID := s.tracking, f.FormID
	rows, _, err := st.List(r.Context(), tracking.ListQuery{SchoolID: v.school.ID, FormID: formID, Signed: true, Sort: "name", PerPage: -1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(rows) == 0 {
		s.fail(w, r, apperr.New(apperr.NotFound, "Nobody has signed this form yet"))
		return
	}
	ev := s.evidence
	// Load the first before any byte is sent, so an error is still a page.
	if _, err := ev.Load(r.Context(), v.school.ID, rows[0].Reference); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-signed-copies.zip"`, slug(f.Title)))
	w.Header().Set("Cache-Control", "private, no-store")
	zw := zip.NewWriter(w)
	refs := make([]string, len(rows))
	for i, row := range rows {
		refs[i] = row.Reference
	}
	next := 0
	err = ev.RenderAll(r.Context(), v.school.ID, refs, func(rec evidence.Record, data []byte, err error) error {
		row := rows[next]
		next++
		name := slug(row.Person.FamilyName+" "+row.Person.GivenName) + "-" + row.Reference
		if apperr.CodeOf(err) == apperr.Conflict {
			// A record that no longer matches its seal (or its text) gets
			// no copy: a note says so in its place.
			s.log.ErrorContext(r.Context(), "zip of signed copies: record fails its checks", "reference", row.Reference, "err", err)
			fw, err2 := zw.CreateHeader(&zip.FileHeader{Name: name + "-NOT-ISSUED.txt", Method: zip.Deflate, Modified: rec.Copy.SignedAt.In(schooltime.London)})
			if err2 != nil {
				return err2
			}
			_, err2 = io.WriteString(fw, apperr.MessageOf(err)+"\r\n")
			return err2
		} else if err != nil {
			s.log.ErrorContext(r.Context(), "zip of signed copies: load or render", "reference", row.Reference, "err", err)
			panic(http.ErrAbortHandler) // the client sees a broken download, never a partial archive that looks whole
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".pdf", Method: zip.Store, Modified: rec.Copy.SignedAt.In(schooltime.London)})
		if err == nil {
			_, err = fw.Write(data)
		}
		return err
	})
	if err != nil {
		return // the client went away
	}
	_ = zw.Close()
}

// trackReport is the compliance report PDF for the governors' meeting.
func (s *Server) trackReport(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	forms, err := s.tracking.Forms(r.Context(), []int64{v.school.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.db.Now()
	rep := pdf.Report{SchoolName: v.school.Name, Produced: now}
	// The staff's forms and the parents' apart, as on the dashboard.
	staff, parents := tracking.Headlines(forms)
	for _, h := range []tracking.Headline{staff, parents} {
		if h.Forms == 0 {
			continue
		}
		sec := pdf.ReportSection{Title: "Staff policies and agreements", Done: "signed", Unit: "signatures", FormsDone: h.FormsDone,
			Audience: h.Audience, Signed: h.Signed, Withdrawn: h.Withdrawn}
		if h.ForParents {
			sec.Title, sec.Done, sec.Unit = "Parents' forms", "returned", "children's forms"
		}
		for _, f := range forms {
			if f.ForParents != h.ForParents {
				continue
			}
			rf := pdf.ReportForm{Title: f.Title, Version: f.VersionNumber, Audience: f.Audience, Signed: f.Signed, Withdrawn: f.Withdrawn}
			if f.DueOn != nil {
				rf.Due = f.DueOn.Format("2 January 2006")
			}
			sec.Forms = append(sec.Forms, rf)
		}
		rep.Sections = append(rep.Sections, sec)
	}
	rep.Reviews, rep.ReviewsKnown, err = s.reviewsDue(r.Context(), v.school.ID, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	anchors, err := evidence.Anchors(r.Context(), s.db, v.school.ID, 1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(anchors) == 1 {
		a := anchors[0]
		rep.Anchor = []string{fmt.Sprintf("Anchor %d, made %s", a.ID, schooltime.DateTimeZone(a.CreatedAt)),
			fmt.Sprintf("Entry %d (%d entries), hash:", a.EntryID, a.Entries), a.HeadHash, "Time stamp: " + a.Status()}
		if a.TSATime != nil {
			rep.Anchor[3] = "Time-stamped " + schooltime.DateTimeZone(*a.TSATime) + " by " + a.TSAURL
		}
		if c, err := x509.ParseCertificate(a.Certificate); err == nil {
			rep.Anchor = append(rep.Anchor, "Signed by the certificate with SHA-256:", signkey.Fingerprint(c))
		}
	}
	var buf bytes.Buffer
	if err := pdf.WriteComplianceReport(&buf, rep); err != nil {
		s.fail(w, r, err)
		return
	}
	sendPDF(w, fmt.Sprintf("%s-compliance-report-%s.pdf", slug(v.school.Name), now.In(schooltime.London).Format("2006-01-02")), buf.Bytes())
}

// reviewsDue lists the school's policies due for review soon or overdue
// (policies.DueForReview, the scheduler's rule).
func (s *Server) reviewsDue(ctx context.Context, schoolID int64, now time.Time) ([]pdf.ReportReview, bool, error) {
	due, err := policies.DueForReview(ctx, s.db.Pool, policies.Today(now), schoolID)
	if err != nil {
		return nil, false, err
	}
	var out []pdf.ReportReview
	for _, d := range due {
		out = append(out, pdf.ReportReview{Title: d.Title, Due: d.NextReviewOn.Format("2 January 2006"), Late: d.Status == policies.Overdue})
	}
	return out, true, nil
}
