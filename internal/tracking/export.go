package tracking

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"signoff/internal/schooltime"
)

// Table is an export: a header and rows of text cells.
type Table struct {
	Sheet  string // the XLSX sheet name
	Header []string
	Rows   [][]string
}

// ExportList builds the signed or outstanding list of the forms of a
// school (one form when formID is not 0) as a table.
func (s *Store) ExportList(ctx context.Context, schoolID, formID int64, signed bool) (Table, error) {
	forms, err := s.Forms(ctx, []int64{schoolID}, formID)
	if err != nil {
		return Table{}, err
	}
	t := Table{Sheet: "Outstanding"}
	t.Header = []string{"Form", "Version", "Surname", "First name", "Email", "Role or group", "Child", "Last reminder", "Reminders sent"}
	if signed {
		t.Sheet = "Signed"
		t.Header = []string{"Form", "Version", "Surname", "First name", "Email", "Role or group", "Child", "Signed at (UK time)", "Reference"}
	}
	for _, f := range forms {
		rows, _, err := s.List(ctx, ListQuery{SchoolID: schoolID, FormID: f.FormID, Signed: signed, PerPage: -1})
		if err != nil {
			return Table{}, err
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

// SafeCell defuses a cell a spreadsheet would run as a formula: text
// starting with = + - @ (or a tab or carriage return) gets a leading
// apostrophe, as OWASP advises for CSV injection.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// WriteCSV writes t as CSV (UTF-8 with a byte-order mark, so Excel reads
// accents right; CRLF line ends), every cell made safe.
func WriteCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	safe := func(in []string) []string {
		out := make([]string, len(in))
		for i, c := range in {
			out[i] = SafeCell(c)
		}
		return out
	}
	if err := cw.Write(safe(t.Header)); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := cw.Write(safe(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes t as an Excel workbook of one sheet, streamed row by
// row, with a bold header row frozen at the top. Cells are text, so
// nothing is ever taken for a formula.
func WriteXLSX(w io.Writer, t Table) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.Sheet
	if sheet == "" {
		sheet = "Sheet1"
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i := range t.Header {
		width := 18.0
		if i == 0 {
			width = 36
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(t.Header))
	for i, h := range t.Header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for n, r := range t.Rows {
		cells := make([]any, len(r))
		for i, c := range r {
			cells[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}
