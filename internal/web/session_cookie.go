package web

import (
	"errors"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// cookieValues is how the cookies' values are written inside their
// signed and encrypted envelope. The session cookie, read on every
// request, holds one value, the session's token: it is written as a zero
// byte and the token's bytes, which no gob stream starts with. gob (the
// gorilla default) compiled a decoder for the values' map afresh on
// every request, about a tenth of a signed-in page's CPU (issue 15).
// Anything else (the held-result cookie, held.go) and a session cookie
// written before are gob as they were, so no one is signed out by the
// change.
type cookieValues struct{ gob securecookie.GobEncoder }

func (c cookieValues) Serialize(src any) ([]byte, error) {
	if m, ok := src.(map[any]any); ok && len(m) == 1 {
		if token, ok := m["token"].(string); ok {
			return append([]byte{0}, token...), nil
		}
	}
	return c.gob.Serialize(src)
}

func (c cookieValues) Deserialize(src []byte, dst any) error {
	if len(src) == 0 || src[0] != 0 {
		return c.gob.Deserialize(src, dst)
	}
	m, ok := dst.(*map[any]any)
	if !ok {
		return errors.New("web: a session token cookie read into something other than a session's values")
	}
	if *m == nil {
		*m = map[any]any{}
	}
	(*m)["token"] = string(src[1:])
	return nil
}

// useCookieValues makes every codec of the store write values as
// cookieValues does.
func useCookieValues(store *sessions.CookieStore) {
	for _, c := range store.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(cookieValues{})
		}
	}
}
