package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"signoff/internal/auth"
	"signoff/internal/database"
)

// sentWriter records, at each write that reaches the client, whether the
// page cache already held a page.
type sentWriter struct {
	*httptest.ResponseRecorder
	s          *Server
	keptBefore []bool
}

func (w *sentWriter) Write(b []byte) (int, error) {
	w.keptBefore = append(w.keptBefore, w.s.PageCacheStats().Pages > 0)
	return w.ResponseRecorder.Write(b)
}

// TestPageCacheKeepsBeforeSending: a page to be kept is in the cache
// before any of its bytes reach the client, so the client's next look
// finds it (a test, or a person, who has the page and asks again is
// served the kept one). A page too large to keep is sent as it is
// written, and whole.
func TestPageCacheKeepsBeforeSending(t *testing.T) {
	s := &Server{pages: newPageCache(64 << 10), db: &database.DB{Now: time.Now}}
	v := viewer{account: auth.Account{Session: auth.SessionInfo{Snapshot: "10:12:10", TokenHash: [32]byte{1}}}, token: "t", signedIn: true}
	get := func(target string, body string) *sentWriter {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r = r.WithContext(context.WithValue(r.Context(), viewerKey, v))
		w := &sentWriter{ResponseRecorder: httptest.NewRecorder(), s: s}
		s.snapshotCache(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			for part := range strings.SplitSeq(body, "|") {
				_, _ = w.Write([]byte(part))
			}
		})(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", target, w.Code)
		}
		return w
	}
	w := get("/admin/tracking", "<p>25 signed|, 15 still to sign</p>")
	if w.Body.String() != "<p>25 signed, 15 still to sign</p>" {
		t.Errorf("the page sent: %q", w.Body.String())
	}
	if len(w.keptBefore) == 0 || !w.keptBefore[0] {
		t.Errorf("the page's bytes reached the client before it was kept: %v", w.keptBefore)
	}
	if st := s.PageCacheStats(); st.Pages != 1 || st.Misses != 1 {
		t.Errorf("after one look: %+v", st)
	}
	if again := get("/admin/tracking", "<p>built again</p>"); again.Body.String() != "<p>25 signed, 15 still to sign</p>" || s.PageCacheStats().Hits != 1 {
		t.Errorf("the next look was not served the kept page: %q %+v", again.Body.String(), s.PageCacheStats())
	}

	// Larger than a quarter of the cache: not kept, sent as it comes.
	big := strings.Repeat("x", 10<<10) + "|" + strings.Repeat("y", 10<<10)
	if w := get("/admin/tracking/forms/1", big); w.Body.String() != strings.ReplaceAll(big, "|", "") || len(w.keptBefore) != 2 || s.PageCacheStats().Pages != 1 {
		t.Errorf("a page too large to keep: %d writes, %+v", len(w.keptBefore), s.PageCacheStats())
	}
}
