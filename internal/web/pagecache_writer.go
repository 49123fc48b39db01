package web

import (
	"bytes"
	"net/http"
)

// keepKey is the request context's key of its pageWriter.
const keepKey ctxKey = 102

// dontKeep tells the page cache not to keep the page this request
// answers (one with a notice, or a form's errors); nothing outside a
// cached route.
func dontKeep(r *http.Request) {
	if pw, ok := r.Context().Value(keepKey).(*pageWriter); ok {
		pw.keep = false
	}
}

// pageWriter holds back a response's body (a statusWriter: it knows the
// status) while it may be kept, and passes it through once it is larger
// than limit or the handler said not to keep it; release sends what it
// holds.
type pageWriter struct {
	statusWriter
	body  bytes.Buffer
	keep  bool
	limit int
}

func (pw *pageWriter) Write(b []byte) (int, error) {
	if pw.keep && pw.body.Len()+len(b) <= pw.limit {
		if pw.status == 0 {
			pw.status = http.StatusOK // as the write would (statusWriter)
		}
		return pw.body.Write(b)
	}
	pw.keep = false
	if err := pw.release(); err != nil {
		return 0, err
	}
	return pw.statusWriter.Write(b)
}

// release sends the body held back so far.
func (pw *pageWriter) release() error {
	if pw.body.Len() == 0 {
		return nil
	}
	held := pw.body.Bytes()
	pw.body = bytes.Buffer{}
	_, err := pw.statusWriter.Write(held)
	return err
}
