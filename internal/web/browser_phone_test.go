package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/demo"
)

// notAPage are links the phone walk does not follow: files, and the
// addresses that sign out or start a sign-in elsewhere.
var notAPage = regexp.MustCompile(`\.(pdf|csv|zip|ics|png|svg|css)$|^/(sign-in|sign-out|set-up|f/|calendar/|logo/|static/|theme/|healthz|readyz)|/(scan|export)$`)

// TestBrowserEveryPageFitsAPhone: each kind of user walks their pages on
// a 360-pixel phone, following the links of every page from their home
// page (one page of each address, numbers aside; for a parent, every
// page in each language), and no page scrolls
// sideways (browser.keep checks each page a phone-sized browser opens):
// tables read as labelled rows, addresses wrap.
func TestBrowserEveryPageFitsAPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.makeHead()
	ctx := context.Background()
	school := a.id(`SELECT id FROM schools`)
	a.inTrust(school, "Phone Trust", "phone")
	a.account(school, "trust-phone@hollybrook.example.sch.uk", "Trust Phone", "trust_admin")
	_, parentID, _ := a.demoParent()
	link, err := auth.NewStore(a.db).IssueFamilyLink(ctx, school, parentID, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	roles := []struct {
		name, email, start string
		max                int
		exact              bool // one visit per address, not per route
	}{
		{"office", demo.AdminEmail, "/admin/tracking", 70, false},
		{"staff", demo.StaffEmail, "/", 15, false},
		{"governor", governorEmail, "/policies", 15, false},
		{"head", headEmail, "/policies", 15, false},
		{"trust", "trust-phone@hollybrook.example.sch.uk", "/trust", 15, false},
		{"parent", "", "/family", 20, true},
		{"signed out", "-", "/verify", 5, false},
	}
	for _, role := range roles {
		t.Run(role.name, func(t *testing.T) {
			b := newBrowserFor(t, a.ts.URL, phoneWidth, phoneHeight, 4*time.Minute)
			switch role.email {
			case "":
				if st := b.open("/f/" + link.Token); st != 200 {
					b.fatal("family link: %d", st)
				}
			case "-":
			default:
				b.signIn(role.email, demo.Password)
			}
			key := func(u *url.URL) string {
				k := u.Path
				if !role.exact {
					k = idNumbers.ReplaceAllString(k, "N")
				}
				if lang := u.Query().Get("lang"); lang != "" {
					k += "?lang=" + lang
				}
				return k
			}
			seen := map[string]bool{}
			queue := []string{role.start}
			visited := 0
			for len(queue) > 0 && visited < role.max {
				path := queue[0]
				queue = queue[1:]
				u, _ := url.Parse(path)
				if seen[key(u)] {
					continue
				}
				seen[key(u)] = true
				visited++
				if st := b.open(path); st >= 400 && st != 404 {
					t.Errorf("%s: %d", path, st)
				}
				links := run(b, "links", chromedp.Evaluate[[]string](`[...document.querySelectorAll("main a[href], nav a[href]")].map(a => a.getAttribute("href"))`))
				for _, href := range links {
					u, err := url.Parse(href)
					if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || notAPage.MatchString(u.Path) {
						continue
					}
					if !seen[key(u)] {
						next := u.Path
						if lang := u.Query().Get("lang"); lang != "" {
							next += "?lang=" + lang
						}
						queue = append(queue, next)
					}
				}
			}
			if visited < min(role.max, 3) && role.email != "-" {
				t.Errorf("only %d pages walked", visited)
			}
			t.Logf("%s: %d pages at %dpx", role.name, visited, phoneWidth)
		})
	}
}
