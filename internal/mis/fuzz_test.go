package mis

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzReadTable feeds the MIS reader arbitrary bytes (seeded with the
// sample exports, in several encodings and delimiters): it must never
// panic, every value it reads must be valid UTF-8 (it is stored), and
// every problem must name a line of the file.
func FuzzReadTable(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.csv")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 {
			data = data[:4096]
		}
		f.Add(data)
	}
	f.Add([]byte("\xef\xbb\xbfUPN;Legal Surname;Forename\r\nA123;O'Brien;Zoë\r\n"))
	f.Add([]byte("\xff\xfeU\x00P\x00N\x00\n\x00"))
	f.Add([]byte("Email\tFirst name\tSurname\n\"a@b.org\"\t\"Jo\t\"Bloggs\n"))
	f.Add([]byte("\"unterminated,quote\nsecond,line\n"))
	f.Add([]byte{0x93, 'x', 0x94, ',', 0x00, '\n'})
	f.Fuzz(func(t *testing.T, data []byte) {
		tab := readTable(File{Name: "fuzz.csv", Data: data})
		_ = tab.detectKind()
		for _, r := range tab.rows {
			if r.line < 1 {
				t.Fatalf("row with line %d", r.line)
			}
			for _, v := range r.vals {
				if !utf8.ValidString(v) {
					t.Fatalf("value %q is not valid UTF-8", v)
				}
			}
		}
		for _, b := range tab.bad {
			if b.Line < 0 || b.Reason == "" {
				t.Fatalf("bad row without a line or reason: %+v", b)
			}
		}
	})
}
