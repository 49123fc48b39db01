package web

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
)

// Every POST redirects (post/redirect/get). A result the page it
// redirects to cannot read back from the database (a family link shown
// once, a calendar link, the check of an uploaded file) is held for that
// page in a cookie: signed and encrypted with the session keys, sent only
// to that page's address, bound to the account that posted, and good for
// heldFor. Reloading the page shows the result again; it re-posts nothing.

const (
	heldCookie = "signoff-held"
	heldFor    = 10 * time.Minute
)

// hold keeps v (as JSON) for the page at path.
func (s *Server) hold(w http.ResponseWriter, r *http.Request, path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = zw.Write(data)
	if err := zw.Close(); err != nil {
		return err
	}
	sess := sessions.NewSession(s.cookies, heldCookie)
	sess.Values["account"] = viewerOf(r).account.ID
	sess.Values["until"] = s.db.Now().Add(heldFor).Unix()
	sess.Values["data"] = buf.Bytes()
	sess.Options = &sessions.Options{Path: path, MaxAge: int(heldFor / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	return s.cookies.Save(r, w, sess)
}

// held reads into v the result held for this page, reporting whether
// there was one (for this account, still in time).
func (s *Server) held(r *http.Request, v any) bool {
	sess, err := s.cookies.New(r, heldCookie)
	if err != nil || sess.IsNew {
		return false
	}
	account, _ := sess.Values["account"].(int64)
	until, _ := sess.Values["until"].(int64)
	data, _ := sess.Values["data"].([]byte)
	if account != viewerOf(r).account.ID || s.db.Now().Unix() >= until || len(data) == 0 {
		return false
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data)), 64<<10))
	if err != nil {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}
