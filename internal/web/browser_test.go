package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"signoff/internal/demo"
)

// Real-browser tests: Debian's chromium, headless, driven by chromedp over
// its DevTools pipe. Each test starts its own browser with a fresh profile,
// so they are safe to run in parallel.

const (
	phoneWidth  = 360
	phoneHeight = 800
	browserWait = 60 * time.Second
)

// chromiumPath finds Debian's chromium. A missing browser fails the test:
// it is a tool the tests need, like PostgreSQL.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("chromium not found: install Debian's chromium (apt-get install chromium, or make test-deps)")
	return ""
}

// browser is one headless chromium with one tab, open on base.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	width int64
}

// newBrowser starts chromium with a window of width x height. It is closed,
// and its profile removed, when the test ends; everything it does must end
// within browserWait.
func newBrowser(t *testing.T, base string, width, height int64) *browser {
	t.Helper()
	return newBrowserFor(t, base, width, height, browserWait)
}

// newBrowserFor is newBrowser for a test that must end within wait.
func newBrowserFor(t *testing.T, base string, width, height int64, wait time.Duration) *browser {
	t.Helper()
	profile := t.TempDir() // removed after the browser has exited (cleanups run last-in first-out)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(width), int(height)),
	)
	t.Cleanup(acancel) // waits for the browser to exit
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	b := &browser{t: t, ctx: bctx, base: base, width: width}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// fatal stops the test, saying where the browser was.
func (b *browser) fatal(format string, args ...any) {
	b.t.Helper()
	msg := "browser: " + fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\nat " + loc
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		if r := []rune(text); len(r) > 1500 {
			text = string(r[:1500]) + "…"
		}
		msg += "\npage text:\n" + text
	}
	b.t.Fatal(msg)
}

// do runs steps that return nothing.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fatal("%s: %v", what, err)
	}
}

// navigate runs steps that load a page (a click on a link or a submit
// button) and returns the HTTP status of the page that loads.
func (b *browser) navigate(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.fatal("%s: %v", what, err)
	}
	b.keep(int(res.Status))
	return res.Status
}

// keep saves the page the browser shows for the Nu checker (nu_test.go)
// and, in a phone-sized window, checks it does not scroll sideways: every
// page a browser test opens on a phone is checked.
func (b *browser) keep(status int) {
	b.t.Helper()
	html, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.contentType === "text/html" && document.doctype ? "<!DOCTYPE html>\n" + document.documentElement.outerHTML : ""`))
	if err != nil || html == "" {
		return
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	path := loc
	if u, err := url.Parse(loc); err == nil {
		path = u.RequestURI()
	}
	header := http.Header{"Content-Type": {"text/html"}}
	keepPage("BROWSER", path, status, header, []byte(html))
	checkTableLabels(b.t, path, header, []byte(html))
	if b.width == phoneWidth {
		b.fitsWidth(path, phoneWidth)
	}
}

// open loads path and returns its HTTP status.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatal("open %s: %v", path, err)
	}
	b.keep(int(res.Status))
	return res.Status
}

func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fatal("%s: %v", what, err)
	}
	return v
}

// path is the path, query and fragment of the page the browser shows.
func (b *browser) path() string {
	b.t.Helper()
	u, err := url.Parse(run(b, "location", chromedp.Location()))
	if err != nil {
		b.fatal("location: %v", err)
	}
	if u.Fragment != "" {
		return u.RequestURI() + "#" + u.Fragment
	}
	return u.RequestURI()
}

// pressEnter presses and releases Enter on the focused element, with no
// character event: SendKeys' "\r" also types a newline character, which
// reaches whatever has focus after the keydown (a checkbox, after following
// a link to it) and would submit its form.
func (b *browser) pressEnter() {
	b.t.Helper()
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		if _, err := chromedp.Call(b.ctx, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		}); err != nil {
			b.fatal("press Enter: %v", err)
		}
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

// fitsWidth checks that the page does not scroll sideways at the window's width.
func (b *browser) fitsWidth(page string, width int) {
	b.t.Helper()
	type dims struct {
		Client int    `json:"client"`
		Scroll int    `json:"scroll"`
		Widest string `json:"widest"`
	}
	d := run(b, "page width", chromedp.Evaluate[dims](`(() => {
		const root = document.documentElement, vw = root.clientWidth;
		// clipped: an ancestor that contains el (for absolute and fixed
		// boxes, only positioned ones do) hides its overflow.
		const clipped = el => {
			let pos = getComputedStyle(el).position;
			for (let p = el.parentElement; p && p !== root; p = p.parentElement) {
				if (pos === "fixed") return false;
				const cs = getComputedStyle(p);
				if (pos === "absolute" && cs.position === "static") continue;
				if (cs.overflowX !== "visible") return true;
				pos = cs.position;
			}
			return false;
		};
		let widest = "";
		if (root.scrollWidth > vw) {
			for (const el of document.querySelectorAll("body *")) {
				const r = el.getBoundingClientRect();
				// Past the right edge, or (right to left) past the left one.
				if ((r.right > vw + 0.5 || r.left < -0.5) && !clipped(el)) {
					widest = el.tagName.toLowerCase() + (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "") +
						" (edges at " + Math.round(r.left) + "px and " + Math.round(r.right) + "px)";
					break;
				}
			}
		}
		return {client: vw, scroll: root.scrollWidth, widest};
	})()`))
	if d.Client != width {
		b.fatal("%s: the window is %dpx wide, want %d", page, d.Client, width)
	}
	if d.Scroll > width {
		b.t.Errorf("%s scrolls sideways at %dpx: scrollWidth %d (first element past the edge: %s)", page, width, d.Scroll, d.Widest)
	}
}

var browserRefRE = regexp.MustCompile(`^/signatures/(SG-[0-9A-Z-]+)\?signed=1$`)

// TestBrowserStaffSignsOnAPhone: a member of staff, on a phone-sized
// screen, signs in, opens the AUP from their list, first presses Sign with
// nothing filled in (error summary with links that move focus to the
// fields), then ticks, types their name and signs.
func TestBrowserStaffSignsOnAPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := newBrowser(t, a.ts.URL, phoneWidth, phoneHeight)

	// Signed out, the home page sends the browser to sign in.
	if st := b.open("/"); st != 200 {
		b.fatal("/ answered %d", st)
	}
	if h1 := b.text("h1"); h1 != "Sign in" {
		b.fatal("h1 %q, want Sign in", h1)
	}
	b.do("type the email and password",
		chromedp.SendKeys(chromedp.ID("email"), demo.StaffEmail),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password))
	if st := b.navigate("press Sign in", chromedp.Click(`//main//form//button[normalize-space()="Sign in"]`)); st != 200 {
		b.fatal("signing in showed a %d page", st)
	}
	if p := b.path(); p != "/" {
		b.fatal("signed in at %s, want /", p)
	}
	if main := b.text("main"); !strings.Contains(main, aup) {
		b.fatal("the home page does not list %q", aup)
	}
	b.fitsWidth("home page", phoneWidth)

	// Open the policy from the list.
	if st := b.navigate("open the AUP", chromedp.Click(`//main//a[normalize-space()="`+aup+`"]`)); st != 200 {
		b.fatal("the sign page answered %d", st)
	}
	formPath := b.path()
	if !strings.HasPrefix(formPath, "/forms/") {
		b.fatal("the AUP link went to %s", formPath)
	}
	if h1 := b.text("h1"); h1 != aup {
		b.fatal("sign page h1 %q, want %q", h1, aup)
	}
	b.fitsWidth("sign page", phoneWidth)
	signButton := `//main//form//button[normalize-space()="Sign"]`

	// Sign with nothing ticked or typed.
	if st := b.navigate("press Sign with nothing filled in", chromedp.Click(signButton)); st != 422 {
		b.fatal("an empty signature answered %d, want 422", st)
	}
	if title := run(b, "title", chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		b.t.Errorf("title %q does not start with Error:", title)
	}
	if s := b.text(".govuk-error-summary"); !strings.Contains(s, "There is a problem") {
		b.fatal("error summary says %q", s)
	}
	type link struct {
		Href      string `json:"href"`
		Text      string `json:"text"`
		Target    string `json:"target"`
		Focusable bool   `json:"focusable"`
	}
	links := run(b, "error summary links", chromedp.Evaluate[[]link](`Array.from(
		document.querySelectorAll(".govuk-error-summary a"), a => {
			const id = decodeURIComponent(a.hash.slice(1)), el = document.getElementById(id);
			return {href: a.getAttribute("href"), text: a.innerText.trim(),
				target: el ? el.tagName.toLowerCase() : "",
				focusable: !!el && !el.disabled && el.tabIndex >= 0};
		})`))
	hrefs := map[string]bool{}
	for _, l := range links {
		hrefs[l.Href] = true
		if l.Text == "" || l.Target == "" || !l.Focusable {
			b.t.Errorf("error summary link %+v: want text and a focusable field", l)
		}
	}
	if !hrefs["#agree"] || !hrefs["#typed_name"] {
		b.fatal("error summary links %+v, want #agree and #typed_name", links)
	}
	// A keyboard user follows the first link: focus moves to the checkbox.
	b.do("focus the #agree link", chromedp.Focus(chromedp.CSS(`.govuk-error-summary a[href="#agree"]`)))
	b.pressEnter()
	focused := run(b, "focused element", chromedp.Poll[string](
		`document.activeElement && document.activeElement.id === "agree" ? "agree" : null`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if focused != "agree" {
		b.fatal("following the error link focused %q, want the checkbox", focused)
	}
	if p := b.path(); p != formPath+"#agree" {
		b.fatal("following the error link went to %s, want %s#agree", p, formPath)
	}
	if msg := b.text("#agree-error"); msg == "" {
		b.fatal("no error message by the checkbox")
	}
	b.fitsWidth("sign page with errors", phoneWidth)

	// Tick, type the name, sign.
	b.do("tick the box and type the name",
		chromedp.Click(chromedp.ID("agree")),
		chromedp.SendKeys(chromedp.ID("typed_name"), "Daniel Okafor"))
	if !run(b, "checkbox state", chromedp.JavascriptAttribute[bool](chromedp.ID("agree"), "checked")) {
		b.fatal("clicking the checkbox did not tick it")
	}
	if st := b.navigate("press Sign", chromedp.Click(signButton)); st != 200 {
		b.fatal("signing answered %d", st)
	}
	m := browserRefRE.FindStringSubmatch(b.path())
	if m == nil {
		b.fatal("signing went to %s, want /signatures/<reference>?signed=1", b.path())
	}
	ref := m[1]
	if title := b.text(".govuk-panel--confirmation h1"); title != "Signed" {
		b.fatal("confirmation panel title %q, want Signed", title)
	}
	if main := b.text("main"); !strings.Contains(main, ref) || !strings.Contains(main, aup) {
		b.fatal("the confirmation page does not show the reference %s and the title", ref)
	}
	b.fitsWidth("confirmation page", phoneWidth)

	// Back home, the AUP is no longer to sign.
	if st := b.navigate("follow the link home", chromedp.Click(`//main//a[@href="/"]`)); st != 200 {
		b.fatal("home answered %d", st)
	}
	if n := run(b, "links to the form", chromedp.Evaluate[int](
		`document.querySelectorAll('main a[href="`+formPath+`"]').length`)); n != 0 {
		b.fatal("the home page still links to %s after signing", formPath)
	}
}
