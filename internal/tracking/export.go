package tracking

import (
	"context"
	"fmt"
	"time"

	"signoff/internal/schooltime"
	"signoff/internal/spreadsheet"
)

// ExportList builds the signed or outstanding list of the forms of a
// school (one form when formID is not 0) as a table, for
// spreadsheet.WriteCSV or WriteXLSX.
func (s *Store) ExportList(ctx context.Context, schoolID, formID int64, signed bool) (spreadsheet.Table, error) {
	forms, err := s.Forms(ctx, []int64{schoolID}, formID)
	if err != nil {
		return spreadsheet.Table{}, err
	}
	t := spreadsheet.Table{Sheet: "Outstanding"}
	t.Header = []string{"Form", "Version", "Surname", "First name", "Email", "Role or group", "Child", "Last reminder", "Reminders sent"}
	if signed {
		t.Sheet = "Signed"
		t.Header = []string{"Form", "Version", "Surname", "First name", "Email", "Role or group", "Child", "Signed at (UK time)", "Reference"}
	}
	for _, f := range forms {
		rows, _, err := s.List(ctx, ListQuery{SchoolID: schoolID, FormID: f.FormID, Signed: signed, PerPage: -1})
		if err != nil {
			return spreadsheet.Table{}, err
		}
		for _, r := range rows {
			line := []string{f.Title, fmt.Sprint(f.VersionNumber), r.Person.FamilyName, r.Person.GivenName, r.Person.Email, GroupLabel(r.Group), r.PupilName}
			if signed {
				line = append(line, stamp(r.SignedAt), r.Reference)
			} else {
				line = append(line, stamp(r.LastReminder), fmt.Sprint(r.Reminders))
			}
			t.Rows = append(t.Rows, line)
		}
	}
	return t, nil
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(schooltime.London).Format("2006-01-02 15:04")
}
