package i18n_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"signoff/internal/i18n"
)

// validationMessages are the messages of internal/consent
// validateSubmission that reach a parent through lang.T(e.Message) in
// internal/web/family.go translateFieldError. The per-question messages
// ("Choose yes or no for: …", "Tick to confirm: …") are translated there
// with their own .T keys; the paper-form messages are for the office.
var validationMessages = []string{
	"Type your full name to sign",
	"The name must be 200 characters or fewer",
	"The drawn signature could not be read: clear it and draw it again, or leave it out",
	"Tick the box to agree to the parent's part",
}

// dynamicCalls are the .T calls in the web code whose argument is not a
// string literal, with what covers their keys. A new one needs its
// messages added to the catalogs and to this test.
var dynamicCalls = []string{
	"lang.T(e.Message)",      // validationMessages
	"lang.T(l.Nav[i].Label)", // navLabels
}

// sameInTranslation are keys whose translation may equal the English.
var sameInTranslation = map[string]map[string]bool{
	"pl": {},
	"ar": {},
}

var (
	literalCall = regexp.MustCompile(`\.T\(("(?:[^"\\\n]|\\.)*")`)
	otherCall   = regexp.MustCompile(`(?m)^.*\.T\([^"].*$`)
	addCall     = regexp.MustCompile(`\badd\(("(?:[^"\\\n]|\\.)*")`)
	verb        = regexp.MustCompile(`%[-+# 0]*(?:\[\d+\])?(?:\d+|\*)?(?:\.(?:\d+|\*)?)?[a-zA-Z%]`)
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// webSources returns the non-test Go sources of internal/web by name.
func webSources(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("../web/*.go")
	if err != nil || len(names) == 0 {
		t.Fatalf("no web sources: %v", err)
	}
	out := map[string]string{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		out[filepath.Base(n)] = readFile(t, n)
	}
	return out
}

// navLabels are the menu labels of render.go, which familyLayout passes
// through lang.T.
func navLabels(t *testing.T, src map[string]string) []string {
	t.Helper()
	if !strings.Contains(src["family.go"], "lang.T(l.Nav[i].Label)") {
		return nil
	}
	var out []string
	for _, m := range addCall.FindAllStringSubmatch(src["render.go"], -1) {
		s, err := strconv.Unquote(m[1])
		if err != nil {
			t.Fatalf("render.go: %s: %v", m[1], err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatal("render.go: no menu labels found")
	}
	return out
}

// usedKeys returns every message the parent pages pass to T, with where
// it comes from.
func usedKeys(t *testing.T) map[string]string {
	t.Helper()
	src := webSources(t)
	src["dates.go"] = readFile(t, "dates.go") // this package's own dates and year groups
	// The letters to families, in the parent's language.
	letters, err := filepath.Glob("../letters/*.go")
	if err != nil || len(letters) == 0 {
		t.Fatalf("no letters sources: %v", err)
	}
	for _, n := range letters {
		if !strings.HasSuffix(n, "_test.go") {
			src["letters/"+filepath.Base(n)] = readFile(t, n)
		}
	}
	used := map[string]string{}
	for name, s := range src {
		for _, m := range literalCall.FindAllStringSubmatch(s, -1) {
			k, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatalf("%s: %s: %v", name, m[1], err)
			}
			used[k] = name
		}
		for _, line := range otherCall.FindAllString(s, -1) {
			if !slices.ContainsFunc(dynamicCalls, func(c string) bool { return strings.Contains(line, c) }) {
				t.Errorf("%s: %q translates a message that is not a literal; add its messages to the catalogs and to this test",
					name, strings.TrimSpace(line))
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("no .T(\"…\") calls found in ../web")
	}
	for _, k := range navLabels(t, src) {
		used[k] = "render.go (menu)"
	}
	if slices.ContainsFunc(slices.Collect(maps.Values(src)), func(s string) bool { return strings.Contains(s, "lang.T(e.Message)") }) {
		consent := readFile(t, "../consent/records.go")
		for _, k := range validationMessages {
			if !strings.Contains(consent, strconv.Quote(k)) {
				t.Errorf("validation message %q is no longer in ../consent/records.go", k)
				continue
			}
			used[k] = "consent/records.go (validation)"
		}
	}
	return used
}

// catalog reads a catalog's map literal from its source, so that the
// test sees every entry, not only the ones it asks for.
func catalog(t *testing.T, file, name string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != name || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.CompositeLit)
		if !ok {
			t.Fatalf("%s: %s is not a map literal", file, name)
		}
		out = map[string]string{}
		for _, e := range lit.Elts {
			kv := e.(*ast.KeyValueExpr)
			k, v := unquote(t, kv.Key), unquote(t, kv.Value)
			out[k] = v
		}
		return false
	})
	if out == nil {
		t.Fatalf("%s: no var %s", file, name)
	}
	return out
}

func unquote(t *testing.T, e ast.Expr) string {
	t.Helper()
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		t.Fatalf("catalog entry %#v is not a string literal", e)
	}
	s, err := strconv.Unquote(b.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var catalogs = []struct{ code, file, name string }{
	{"pl", "catalog_pl.go", "polish"},
	{"ar", "catalog_ar.go", "arabic"},
}

func TestCatalogKeysAreUsed(t *testing.T) {
	used := usedKeys(t)
	for _, c := range catalogs {
		for k := range catalog(t, c.file, c.name) {
			if _, ok := used[k]; !ok {
				t.Errorf("%s: %q is used nowhere on the parent pages", c.file, k)
			}
		}
	}
}

func TestUsedKeysAreTranslated(t *testing.T) {
	used := usedKeys(t)
	for _, c := range catalogs {
		cat := catalog(t, c.file, c.name)
		for k, where := range used {
			tr, ok := cat[k]
			switch {
			case !ok || tr == "":
				t.Errorf("%s: no translation of %q (%s)", c.file, k, where)
			case tr == k && !sameInTranslation[c.code][k]:
				t.Errorf("%s: %q is left in English", c.file, k)
			}
		}
	}
}

func TestTranslationsKeepVerbs(t *testing.T) {
	for _, c := range catalogs {
		for k, tr := range catalog(t, c.file, c.name) {
			if want, got := verb.FindAllString(k, -1), verb.FindAllString(tr, -1); !reflect.DeepEqual(want, got) {
				t.Errorf("%s: %q has verbs %q, its translation %q has %q", c.file, k, want, tr, got)
			}
		}
	}
}

func TestTranslationsTypography(t *testing.T) {
	for _, c := range catalogs {
		for k, tr := range catalog(t, c.file, c.name) {
			if strings.ContainsAny(tr, "\"`") {
				t.Errorf("%s: %q uses straight quotes", c.file, tr)
			}
			if strings.ContainsAny(k, "“”") && !strings.ContainsAny(tr, "“„«") {
				t.Errorf("%s: %q lost the quotes of %q", c.file, tr, k)
			}
			if tr != strings.TrimSpace(tr) || strings.Contains(tr, "  ") {
				t.Errorf("%s: %q has stray spaces", c.file, tr)
			}
			if c.code == "ar" && !strings.ContainsFunc(tr, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) {
				t.Errorf("%s: %q has no Arabic in it", c.file, tr)
			}
		}
	}
}

// TestCatalogsAreLoaded checks that T looks in the catalogs the test
// reads.
func TestCatalogsAreLoaded(t *testing.T) {
	for _, c := range catalogs {
		l := i18n.ByCode(c.code)
		for k, tr := range catalog(t, c.file, c.name) {
			if got := l.T(k); got != tr {
				t.Errorf("%s T(%q) = %q, want %q", c.code, k, got, tr)
			}
		}
	}
}

func TestT(t *testing.T) {
	for _, tc := range []struct {
		code, msg string
		args      []any
		want      string
	}{
		{"en", "Hello, %s", []any{"Anna"}, "Hello, Anna"},
		{"pl", "Hello, %s", []any{"Anna"}, "Dzień dobry, Anna"},
		{"ar", "Hello, %s", []any{"Anna"}, "مرحبًا، Anna"},
		{"pl", "Completed by %s on %s", []any{"Anna Nowak", "3 March 2025"}, "Wypełniony przez: Anna Nowak, dnia 3 March 2025"},
		{"pl", "Nothing to complete at the moment.", nil, "Na razie nie ma nic do wypełnienia."},
		// A message with no translation shows the English.
		{"pl", "No such message %d", []any{3}, "No such message 3"},
		{"ar", "No such message", nil, "No such message"},
	} {
		if got := i18n.ByCode(tc.code).T(tc.msg, tc.args...); got != tc.want {
			t.Errorf("%s T(%q, %v) = %q, want %q", tc.code, tc.msg, tc.args, got, tc.want)
		}
	}
}

func TestByCodeAndDir(t *testing.T) {
	for _, tc := range []struct{ in, code, dir string }{
		{"en", "en", ""},
		{"pl", "pl", ""},
		{" PL ", "pl", ""},
		{"ar", "ar", "rtl"},
		{"AR", "ar", "rtl"},
		{"fr", "en", ""},
		{"", "en", ""},
		{"pl-PL", "en", ""},
	} {
		l := i18n.ByCode(tc.in)
		if l.Code != tc.code || l.Dir() != tc.dir {
			t.Errorf("ByCode(%q) = %q dir %q, want %q dir %q", tc.in, l.Code, l.Dir(), tc.code, tc.dir)
		}
	}
	if i18n.English.Code != "en" || i18n.Languages[0] != i18n.English {
		t.Errorf("English = %+v, Languages[0] = %+v", i18n.English, i18n.Languages[0])
	}
}

func TestFromRequest(t *testing.T) {
	for _, tc := range []struct {
		name, url, cookie string
		secure            bool
		want              string
		setCookie         string // "" when none should be set
	}{
		{name: "nothing", url: "/family", want: "en"},
		{name: "query", url: "/family?lang=pl", want: "pl", setCookie: "pl"},
		{name: "query secure", url: "/family?lang=ar", secure: true, want: "ar", setCookie: "ar"},
		{name: "query beats cookie", url: "/family?lang=pl", cookie: "ar", want: "pl", setCookie: "pl"},
		{name: "unknown query", url: "/family?lang=xx", cookie: "pl", want: "en", setCookie: "en"},
		{name: "cookie", url: "/family", cookie: "ar", want: "ar"},
		{name: "unknown cookie", url: "/family", cookie: "xx", want: "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.url, nil)
			r.Header.Set("Accept-Language", "pl,ar;q=0.9")
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: i18n.CookieName, Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			if got := i18n.FromRequest(w, r, tc.secure); got.Code != tc.want {
				t.Errorf("language %q, want %q", got.Code, tc.want)
			}
			cookies := w.Result().Cookies()
			if tc.setCookie == "" {
				if len(cookies) != 0 {
					t.Errorf("set cookies %v, want none", cookies)
				}
				return
			}
			if len(cookies) != 1 {
				t.Fatalf("set cookies %v, want one", cookies)
			}
			c := cookies[0]
			if c.Name != i18n.CookieName || c.Value != tc.setCookie || c.Path != "/" || !c.HttpOnly || c.Secure != tc.secure ||
				c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 {
				t.Errorf("cookie %+v, want %s=%s for / (HttpOnly, Secure %v, Lax, lasting)", c, i18n.CookieName, tc.setCookie, tc.secure)
			}
		})
	}
}

func TestDatesAndClassesInTheParentsLanguage(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	for _, c := range []struct{ code, date, dateTime, year string }{
		{"en", "1 December 2026", "1 December 2026 at 14:05 GMT", "Year 3"},
		{"pl", "1 grudnia 2026", "1 grudnia 2026, godz. 14:05 GMT", "Rok 3"},
		{"ar", "1 ديسمبر 2026", "1 ديسمبر 2026 الساعة 14:05 GMT", "السنة 3"},
	} {
		l := i18n.ByCode(c.code)
		if got := l.Date(at); got != c.date {
			t.Errorf("%s date %q, want %q", c.code, got, c.date)
		}
		if got := l.DateTime(at); got != c.dateTime {
			t.Errorf("%s date and time %q, want %q", c.code, got, c.dateTime)
		}
		if got := l.YearGroup(3); got != c.year {
			t.Errorf("%s year %q, want %q", c.code, got, c.year)
		}
	}
	// Summer time, in London.
	if got := i18n.ByCode("pl").DateTime(time.Date(2026, 7, 31, 23, 30, 0, 0, time.UTC)); got != "1 sierpnia 2026, godz. 00:30 BST" {
		t.Errorf("summer: %q", got)
	}
}
