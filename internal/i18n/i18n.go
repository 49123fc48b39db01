// Package i18n translates the fixed text of the parent-facing pages.
// Messages are keyed by their English text; a language without a
// translation for a message shows the English. Text the school writes
// (form titles, questions) is shown as the school wrote it.
package i18n

import (
	"fmt"
	"net/http"
	"strings"
)

// Lang is a language the parent pages are offered in.
type Lang struct {
	Code string // BCP 47 tag: "en", "pl", "ar"
	Name string // the language's name in itself
	RTL  bool   // written right to left
}

// Languages lists the languages on offer, English first.
var Languages = []Lang{
	{Code: "en", Name: "English"},
	{Code: "pl", Name: "Polski"},
	{Code: "ar", Name: "العربية", RTL: true},
}

// English is the default.
var English = Languages[0]

// ByCode returns the language with code, or English.
func ByCode(code string) Lang {
	code = strings.ToLower(strings.TrimSpace(code))
	for _, l := range Languages {
		if l.Code == code {
			return l
		}
	}
	return English
}

// Dir is "rtl" for right-to-left languages, else "".
func (l Lang) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return ""
}

// T translates an English message, formatting it with args (fmt verbs).
func (l Lang) T(english string, args ...any) string {
	msg := english
	if cat, ok := catalogs[l.Code]; ok {
		if tr, ok := cat[english]; ok && tr != "" {
			msg = tr
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// CookieName holds the parent's chosen language.
const CookieName = "signoff_lang"

// FromRequest picks the language: ?lang= first (and remembered), then the
// cookie, then English. It never guesses from the browser: a parent who
// reads English on a phone set to another language keeps English until
// they choose.
func FromRequest(w http.ResponseWriter, r *http.Request, secure bool) Lang {
	if q := r.URL.Query().Get("lang"); q != "" {
		l := ByCode(q)
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: l.Code, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return ByCode(c.Value)
	}
	return English
}

var catalogs = map[string]map[string]string{
	"pl": polish,
	"ar": arabic,
}
