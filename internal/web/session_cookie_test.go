package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"

	"signoff/internal/demo"
)

// rawValues reads a cookie's envelope without decoding what is inside.
type rawValues struct{}

func (rawValues) Serialize(src any) ([]byte, error) { return src.([]byte), nil }
func (rawValues) Deserialize(src []byte, dst any) error {
	*(dst.(*[]byte)) = append([]byte(nil), src...)
	return nil
}

// TestSessionCookieFormats: a sign-in writes the session cookie as its
// token behind a zero byte (not gob), and a session cookie written in
// gob before the change still signs its browser in.
func TestSessionCookieFormats(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	staff := a.signedIn(demo.StaffEmail)
	base, _ := url.Parse(a.ts.URL)
	var sealed string
	for _, c := range staff.http.Jar.Cookies(base) {
		if c.Name == "signoff_session" {
			sealed = c.Value
		}
	}
	codecs := securecookie.CodecsFromPairs(testKeys...)
	for _, c := range codecs {
		c.(*securecookie.SecureCookie).SetSerializer(rawValues{})
	}
	var raw []byte
	if err := securecookie.DecodeMulti("signoff_session", sealed, &raw, codecs...); err != nil || len(raw) < 2 || raw[0] != 0 {
		t.Fatalf("the session cookie holds %q (%v), want a zero byte and the token", raw, err)
	}
	token := string(raw[1:])
	home := staff.get("/")
	if home.status != http.StatusOK || !strings.Contains(home.body, "Your documents") {
		t.Fatalf("signed in with the new cookie: %d\n%s", home.status, home.body)
	}

	old, err := securecookie.EncodeMulti("signoff_session", map[any]any{"token": token}, securecookie.CodecsFromPairs(testKeys...)...)
	if err != nil {
		t.Fatal(err)
	}
	before := a.client()
	before.http.Jar.SetCookies(base, []*http.Cookie{{Name: "signoff_session", Value: old, Path: "/"}})
	if res := before.get("/"); res.status != http.StatusOK || res.body != home.body {
		t.Fatalf("a gob session cookie from before: %d, want the same page as the new cookie's\n%s", res.status, res.body)
	}
	// A cookie that is neither, under the right keys, signs no one in.
	bad, _ := securecookie.EncodeMulti("signoff_session", []byte("\x01junk"), codecs...)
	junk := a.client()
	junk.http.Jar.SetCookies(base, []*http.Cookie{{Name: "signoff_session", Value: bad, Path: "/"}})
	if res := junk.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/sign-in") {
		t.Fatalf("a cookie of neither format: %d %s, want a redirect to sign in", res.status, res.location)
	}
}
