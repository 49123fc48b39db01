package spreadsheet_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"signoff/internal/spreadsheet"
)

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+44 20": "'+44 20", "-3": "'-3", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "Zoë": "Zoë", "a=b": "a=b", "": ""} {
		if got := spreadsheet.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

var table = spreadsheet.Table{Sheet: "Signed", Header: []string{"Name", "=Note"},
	Rows: [][]string{{"Zoë O'Brien", "=HYPERLINK(\"http://x\")"}, {"Sam, \"Jr\"", "-1"}}}

// TestWriteCSV reads the CSV back as a spreadsheet would: a byte-order
// mark, CRLF line ends, quoting kept, and no cell starting a formula.
func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := spreadsheet.WriteCSV(&buf, table); err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(buf.String(), "\ufeff")
	if !ok || !strings.Contains(text, "\r\n") {
		t.Fatalf("no byte-order mark or CRLF: %q", buf.String())
	}
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"Name", "'=Note"}, {"Zoë O'Brien", "'=HYPERLINK(\"http://x\")"}, {"Sam, \"Jr\"", "'-1"}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, rows[i], want[i])
		}
	}
	if strings.Join(table.Rows[0], "|") != "Zoë O'Brien|=HYPERLINK(\"http://x\")" {
		t.Error("WriteCSV changed the table it was given")
	}
}

// TestWriteXLSX opens the workbook: the sheet named, the header first,
// every cell text (a formula stays text).
func TestWriteXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := spreadsheet.WriteXLSX(&buf, table); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Signed")
	if err != nil || len(rows) != 3 || rows[0][0] != "Name" || rows[1][1] != "=HYPERLINK(\"http://x\")" {
		t.Fatalf("rows %q, %v", rows, err)
	}
	if formula, _ := f.GetCellFormula("Signed", "B2"); formula != "" {
		t.Errorf("B2 is a formula: %q", formula)
	}
}
