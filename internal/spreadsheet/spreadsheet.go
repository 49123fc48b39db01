// Package spreadsheet writes tables for spreadsheets: CSV and Excel
// workbooks. It is the one place where a cell is made safe from being
// run as a formula, for every export (the dashboards', the class photo
// list, a subject access request's files).
package spreadsheet

import (
	"encoding/csv"
	"io"

	"github.com/xuri/excelize/v2"
)

// Table is an export: a header and rows of text cells.
type Table struct {
	Sheet  string // the XLSX sheet name
	Header []string
	Rows   [][]string
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
	safe := make([]string, 0, len(t.Header))
	write := func(row []string) error {
		safe = safe[:0]
		for _, c := range row {
			safe = append(safe, SafeCell(c))
		}
		return cw.Write(safe)
	}
	if err := write(t.Header); err != nil {
		return err
	}
	for _, row := range t.Rows { // not appended to the header: that copied every row's slice
		if err := write(row); err != nil {
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
