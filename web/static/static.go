// Package static embeds Signoff's static assets (CSS, JS, licence text,
// images) and serves them under cache-busting, content-hashed names.
//
// Each file "name.ext" is also available as "name.<hash>.ext", where <hash> is
// the first 10 hex digits of the SHA-256 of its content, e.g.
// "app.css" -> "/static/app.3f9a1c0b2d.css". Templates should always link
// through [Path] so that a changed file gets a new URL and browsers can cache
// every URL forever.
//
// The vendored govuk-frontend.min.css is produced by scripts/vendor-govuk.sh;
// do not edit it by hand.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the URL path prefix under which [Handler] serves the assets.
const Prefix = "/static/"

// Add a pattern here when a new kind of file (e.g. *.svg, *.png, *.ico) is
// added to this directory; every pattern must match at least one file.
//
//go:embed *.css *.js *.txt *.svg
var files embed.FS

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

type asset struct {
	name   string // file name as stored, e.g. "app.css"
	hashed string // e.g. "app.3f9a1c0b2d.css"
	data   []byte
	etag   string // quoted strong ETag
	ctype  string
}

var (
	byName   = map[string]*asset{} // "app.css" -> asset
	byHashed = map[string]*asset{} // "app.3f9a1c0b2d.css" -> asset
)

func init() {
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])[:10]
		a := &asset{
			name:   p,
			hashed: hashedName(p, hash),
			data:   data,
			etag:   `"` + hash + `"`,
			ctype:  contentType(p),
		}
		byName[a.name] = a
		byHashed[a.hashed] = a
		return nil
	})
	if err != nil {
		panic("static: indexing embedded files: " + err.Error())
	}
}

// hashedName inserts hash before the last extension: "a.min.css" ->
// "a.min.<hash>.css"; a name without an extension gets ".<hash>" appended.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// contentType is a fixed table so results do not depend on the host's
// mime.types files.
func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".webp":
		return "image/webp"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".woff2":
		return "font/woff2"
	default:
		return "application/octet-stream"
	}
}

// Path returns the URL path of the content-hashed version of the embedded
// file name, e.g. Path("app.css") == "/static/app.3f9a1c0b2d.css".
// A leading "/" in name is ignored.
//
// For a name that is not embedded, Path does not panic: it returns
// "/static/"+name unchanged, so a typo produces a 404 for that asset rather
// than a crashed page. Tests should check that every name used by templates
// yields a hashed path.
func Path(name string) string {
	name = strings.TrimPrefix(name, "/")
	if a, ok := byName[name]; ok {
		return Prefix + a.hashed
	}
	return Prefix + name
}

// Handler serves the embedded assets. It expects the full request path,
// "/static/<name>", so mount it without stripping the prefix:
//
//	mux.Handle("/static/", static.Handler())
//
// Hashed names (as returned by [Path]) are served with
// "Cache-Control: public, max-age=31536000, immutable". Plain names
// ("/static/app.css") are still served, with "Cache-Control: no-cache", so
// old or hand-written links keep working. Anything else, including a hashed
// name whose hash is not current, is a 404. Responses carry a fixed
// Content-Type, X-Content-Type-Options: nosniff and a strong ETag
// (conditional and range requests are handled by [http.ServeContent]).
// Only GET and HEAD are allowed. No compression is applied.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || name == "" {
		http.NotFound(w, r)
		return
	}
	cache := cacheImmutable
	a, ok := byHashed[name]
	if !ok {
		if a, ok = byName[name]; !ok {
			http.NotFound(w, r)
			return
		}
		cache = cacheNoCache
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
}
