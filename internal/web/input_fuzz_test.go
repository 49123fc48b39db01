package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadInput decodes arbitrary queries and form bodies (URL-encoded
// and multipart) as every request is decoded: it must never panic, and
// whenever it lets a request through, every name and value the handler
// will read is valid UTF-8 without NUL, so nothing malformed reaches a
// handler or the database.
func FuzzReadInput(f *testing.F) {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.SetBoundary("BOUNDARY")
	_ = w.WriteField("typed_name", "Zoë O'Brien")
	part, _ := w.CreateFormFile("scan", "form.png")
	_, _ = part.Write([]byte("\x89PNG\r\n\x1a\n"))
	_ = w.Close()
	f.Add("q=caf%C3%A9&page=2", "title=T&body=%23+Heading", false)
	f.Add("q=%ff", "email=a%00b", false)
	f.Add("a=1&a=2&=x&%zz", "x=%C3", false)
	f.Add("", mp.String(), true)
	f.Add("", "--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\xff\"\r\n\r\nv\r\n--BOUNDARY--\r\n", true)
	f.Fuzz(func(t *testing.T, query, body string, multi bool) {
		req, err := http.NewRequest("POST", "/x", strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		if multi {
			req.Header.Set("Content-Type", "multipart/form-data; boundary=BOUNDARY")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		status, msg := readInput(httptest.NewRecorder(), req)
		if req.MultipartForm != nil {
			defer func() { _ = req.MultipartForm.RemoveAll() }()
		}
		if status != 0 {
			if status < 400 || status > 499 || msg == "" {
				t.Fatalf("status %d %q: want a 4xx with a message", status, msg)
			}
			return
		}
		ok := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
		for k, vs := range req.Form {
			for _, v := range vs {
				if !ok(k) || !ok(v) {
					t.Fatalf("let through %q=%q", k, v)
				}
			}
		}
		if req.MultipartForm != nil {
			for k, vs := range req.MultipartForm.Value {
				for _, v := range vs {
					if !ok(k) || !ok(v) {
						t.Fatalf("let through multipart %q=%q", k, v)
					}
				}
			}
		}
	})
}
