package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signoff/internal/database/dbtest"
	"signoff/internal/mail/mailtest"
)

// browser is a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

type page struct {
	status   int
	location string
	body     string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(body)}
}

func (b *browser) get(path string) page {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) upload(path, name string, data []byte) page {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("files", name)
	_, _ = part.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest("POST", b.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// TestGoLiveEndToEnd runs `signoff serve` on an empty database and takes
// a school live through HTTP, as its office would: the set-up page with
// the code from the server's output, a staff import from the MIS export,
// invitations delivered by real SMTP, and a member of staff signing in
// with the link from their email.
func TestGoLiveEndToEnd(t *testing.T) {
	smtp := mailtest.Start(t)
	addr := freeAddr(t)
	base := "http://" + addr
	mc := smtp.Config()
	vars := env(map[string]string{
		"DATABASE_URL": dbtest.NewURL(t), "SIGNOFF_ADDR": addr, "SIGNOFF_BASE_URL": base, "SIGNOFF_DATA": t.TempDir(),
		"SIGNOFF_SMTP_HOST": mc.Host, "SIGNOFF_SMTP_PORT": strconv.Itoa(mc.Port), "SIGNOFF_SMTP_TLS": "none",
		"SIGNOFF_SMTP_FROM": "signoff@willowbank.example.sch.uk", "SIGNOFF_SMTP_FROM_NAME": "Signoff",
	})
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve"}, vars, &out, &errOut) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d\n%s", code, errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop on SIGTERM")
		}
	}
	defer stop()

	codeRE := regexp.MustCompile(`setup_code=([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})`)
	var code string
	for deadline := time.Now().Add(60 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m := codeRE.FindStringSubmatch(errOut.String()); m != nil && strings.Contains(out.String(), "is running at") {
			code = m[1]
		}
		select {
		case c := <-done:
			t.Fatalf("serve exited %d\n%s", c, errOut.String())
		default:
		}
	}
	if code == "" || !strings.Contains(out.String(), code) {
		t.Fatalf("serve printed no set-up code\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}

	office := newBrowser(t, base)
	if p := office.get("/sign-in"); p.status != http.StatusSeeOther || p.location != "/set-up-school" {
		t.Fatalf("the front door on an empty installation: %d %s", p.status, p.location)
	}
	if p := office.get("/set-up-school"); p.status != 200 || !strings.Contains(p.body, "Set up your school") {
		t.Fatalf("set-up page: %d", p.status)
	}
	p := office.post("/set-up-school", url.Values{"code": {code}, "name": {"Willowbank Primary School"}, "admin_name": {"Sam Patel"},
		"admin_email": {"office@willowbank.example.sch.uk"}, "new_password": {"willowbank office 2026"}, "confirm_password": {"willowbank office 2026"}})
	if p.status != http.StatusSeeOther || p.location != "/admin/tracking" {
		t.Fatalf("set-up: %d %s\n%s", p.status, p.location, p.body)
	}
	if p := office.get("/admin/tracking"); p.status != 200 || !strings.Contains(p.body, "Willowbank Primary School") {
		t.Fatalf("the new school's dashboard: %d", p.status)
	}

	// Import the staff from the MIS export.
	staffCSV, err := os.ReadFile("testdata/golive-staff.csv")
	if err != nil {
		t.Fatal(err)
	}
	p = office.upload("/admin/import", "staff.csv", staffCSV)
	if p.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.status, p.body)
	}
	preview := office.get(p.location)
	if !strings.Contains(preview.body, "new 4, changed 1, unchanged 0, leavers 0") {
		t.Fatalf("preview:\n%s", preview.body)
	}
	if p := office.post(p.location+"/apply", url.Values{"confirm": {"yes"}}); p.status != http.StatusSeeOther {
		t.Fatalf("apply: %d\n%s", p.status, p.body)
	}

	// Invite everyone not invited yet: a confirmation, then a count.
	confirm := office.get("/admin/staff/invite/confirm?who=never")
	if confirm.status != 200 || !strings.Contains(confirm.body, "Send 4 invitations") || !strings.Contains(confirm.body, "tpawlak@willowbank.example.sch.uk") ||
		strings.Contains(confirm.body, "office@willowbank.example.sch.uk") {
		t.Fatalf("confirmation: %d\n%s", confirm.status, confirm.body)
	}
	if p := office.post("/admin/staff/invite", url.Values{"who": {"never"}}); p.status != http.StatusSeeOther || p.location != "/admin/staff?invited=4" {
		t.Fatalf("invite: %d %s", p.status, p.location)
	}
	if list := office.get("/admin/staff?invited=4"); !strings.Contains(list.body, "4 invitations sent") || !strings.Contains(list.body, "4 people listed have never signed in") {
		t.Fatalf("staff list after inviting:\n%s", list.body)
	}
	// Pressing again sends nothing more: they have all been invited.
	if again := office.get("/admin/staff/invite/confirm?who=never"); !strings.Contains(again.body, "Nobody to invite") {
		t.Fatal("those invited are offered again as never invited")
	}

	msgs := smtp.WaitMessages(t, 4, 60*time.Second)
	var link string
	for _, m := range msgs {
		if strings.Contains(strings.Join(m.To, ","), "tpawlak@willowbank.example.sch.uk") {
			link = regexp.MustCompile(regexp.QuoteMeta(base) + `/sign-in/link/[A-Za-z0-9_-]+`).FindString(m.Text)
			if !strings.Contains(m.Subject, "Willowbank Primary School") {
				t.Errorf("invitation subject %q", m.Subject)
			}
		}
	}
	if len(msgs) != 4 || link == "" {
		t.Fatalf("%d messages, link %q: %+v", len(msgs), link, msgs)
	}
	staff := newBrowser(t, base)
	path := strings.TrimPrefix(link, base)
	if p := staff.get(path); p.status != 200 || !strings.Contains(p.body, "Tomasz Pawlak") {
		t.Fatalf("invitation link page: %d\n%s", p.status, p.body)
	}
	if p := staff.post(path, nil); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("using the invitation: %d %s", p.status, p.location)
	}
	if home := staff.get("/"); home.status != 200 || !strings.Contains(home.body, "Hello, Tomasz") {
		t.Fatalf("signed in from the invitation: %d\n%s", home.status, home.body)
	}
	if list := office.get("/admin/staff"); !strings.Contains(list.body, "3 people listed have never signed in") {
		t.Fatalf("the staff list does not show who has signed in:\n%s", list.body)
	}
	stop()
}
