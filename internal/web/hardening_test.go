package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"hash/crc32"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/demo"
)

// raw sends a request with exactly the body given (which url.Values
// would have escaped), as a browser or an attacker might.
func (c *client) raw(method, path, body, contentType string) response {
	req, _ := http.NewRequest(method, c.a.ts.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.do(req)
}

const formType = "application/x-www-form-urlencoded"

// hugePNG is a valid PNG header (signature and IHDR with its CRC) that
// claims w × h pixels, followed by an empty IEND: tiny, but decoding it
// would take the memory it claims.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		b.WriteString(kind)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// TestBadInputGetsAClear4xx walks the bad inputs found by the attack of
// issue 14 (and their neighbours): each must get a 4xx page that says
// what was wrong, never a 500, and nothing may be saved.
func TestBadInputGetsAClear4xx(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	school, parentID, _ := a.demoParent()
	office := a.signedIn(demo.AdminEmail)
	teacher := a.signedIn(demo.StaffEmail)
	parent := a.parent(parentID)
	anon := a.client()
	aup := a.formID(aup)
	aupVersion := a.versionID(aup)
	policy := a.id(`SELECT policy_id FROM policy_versions WHERE id = $1`, aupVersion)
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	agreement := a.id(`SELECT id FROM forms WHERE title = 'Home-school agreement'`)
	child := a.id(`SELECT min(pupil_id) FROM guardianships WHERE parent_id = $1`, parentID)
	long := func(n int) string { return strings.Repeat("x", n) }
	const utf8Msg, nulMsg = "not valid UTF-8", "NUL character"
	before := a.id(`SELECT (SELECT count(*) FROM policies) + (SELECT count(*) FROM forms) + (SELECT count(*) FROM signatures)`)
	schoolName := func() string {
		var n string
		_ = a.db.Pool.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1`, school).Scan(&n)
		return n
	}
	nameBefore := schoolName()

	cases := []struct {
		name   string
		c      *client
		method string
		path   string
		body   string // form-encoded, as sent
		status int
		want   string // in the page
	}{
		// Malformed text, refused in one place for every field.
		{"staff search %ff", office, "GET", "/admin/staff?q=%ff", "", 400, utf8Msg},
		{"staff search %00", office, "GET", "/admin/staff?q=%00", "", 400, nulMsg},
		{"audit search %ff", office, "GET", "/admin/audit?q=%ff", "", 400, utf8Msg},
		{"audit search %00", office, "GET", "/admin/audit?q=a%00b", "", 400, nulMsg},
		{"pupil search %ff", office, "GET", "/admin/pupils?q=%ff", "", 400, utf8Msg},
		{"dashboard search %ff", office, "GET", "/admin/tracking/forms/" + itoa(aup) + "?q=%ff", "", 400, utf8Msg},
		{"quick check %c3", teacher, "GET", "/check?q=ab%c3", "", 400, utf8Msg},
		{"policy title %ff", office, "POST", "/policies/new", "title=%ff&review_cycle_years=1&body=x", 400, utf8Msg},
		{"policy body %00", office, "POST", "/policies/new", "title=T&review_cycle_years=1&body=a%00b", 400, nulMsg},
		{"consent title %ff", office, "POST", "/admin/consents", "kind=consent&title=%ff&signer=one_parent&renewal=each_year&item-label-1=x", 400, utf8Msg},
		{"school name %ff", office, "POST", "/admin/school", "name=%ff&colour=%231d70b8&family_link_days=90", 400, utf8Msg},
		{"typed name %ff", teacher, "POST", "/forms/" + itoa(aup), "version_id=" + itoa(aupVersion) + "&agree=yes&typed_name=Daniel%ff", 400, utf8Msg},
		{"field name %ff", office, "POST", "/admin/school", "na%ffme=x", 400, "field name"},
		{"sign-in email %ff", anon, "POST", "/sign-in", "email=%ff&password=x", 400, utf8Msg},
		{"sign-in password %00", anon, "POST", "/sign-in", "email=a%40b.org&password=%00", 400, nulMsg},
		{"sign-in link %ff", anon, "POST", "/sign-in/link", "email=%ff", 400, utf8Msg},
		{"lost link %00", anon, "POST", "/family/lost", "email=a%00%40b.org", 400, nulMsg},
		{"family code %ff", anon, "POST", "/family/code", "code=%ff", 400, utf8Msg},
		{"sign-in next %ff", anon, "GET", "/sign-in?next=%ff", "", 400, utf8Msg},
		{"verify 1%00", anon, "GET", "/verify/1%00", "", 400, nulMsg},
		{"signature 1%00", teacher, "GET", "/signatures/1%00", "", 400, nulMsg},
		{"family record 1%00", parent, "GET", "/family/records/1%00", "", 400, nulMsg},
		{"path %ff", office, "GET", "/admin/staff/%ff", "", 400, utf8Msg},
		{"malformed query", office, "GET", "/admin/staff?q=%zz", "", 400, "malformed query"},
		// Numbers out of range: not found (or the last page), never a panic.
		{"form id max int64", office, "GET", "/admin/tracking/forms/9223372036854775807", "", 404, "Page not found"},
		{"form id beyond int64", office, "GET", "/admin/tracking/forms/99999999999999999999", "", 404, "Page not found"},
		{"form id negative", office, "GET", "/admin/tracking/forms/-1", "", 404, "Page not found"},
		{"policy id max int64", office, "GET", "/policies/9223372036854775807", "", 404, "Page not found"},
		{"child id max int64", parent, "GET", "/family/children/9223372036854775807", "", 404, "Page not found"},
		{"audit before beyond int4", office, "GET", "/admin/audit?before=99999999999", "", 200, "Audit log"},
		{"audit before beyond int64", office, "GET", "/admin/audit?before=99999999999999999999999", "", 404, "Page not found"},
		{"pupils page beyond int64", office, "GET", "/admin/pupils?page=99999999999999999999", "", 200, "Pupils"},
		{"pupils page negative", office, "GET", "/admin/pupils?page=-3", "", 200, "Pupils"},
		{"dashboard page beyond int64", office, "GET", "/admin/tracking/forms/" + itoa(aup) + "?page=99999999999999999999", "", 200, "still to sign"},
		{"dashboard search cut mid-character", office, "GET", "/admin/tracking/forms/" + itoa(aup) + "?q=" + strings.Repeat("a", 99) + "%C3%A9", "", 200, "still to sign"},
		{"import mapping of no import", office, "POST", "/admin/import/9223372036854775807/mapping", "map-0-x=email", 404, "Page not found"},
		{"import apply of no import", office, "POST", "/admin/import/9223372036854775807/apply", "", 404, "Page not found"},
		// Lengths: a message next to the field, nothing saved.
		{"school name 100k", office, "POST", "/admin/school", "name=" + long(100_000) + "&colour=%231d70b8&family_link_days=90", 422, "200 characters or fewer"},
		{"policy title 100k", office, "POST", "/policies/new", "title=" + long(100_000) + "&review_cycle_years=1&body=x", 422, "The title must be 300 characters or fewer"},
		{"policy category 100k", office, "POST", "/policies/new", "title=T&category=" + long(100_000) + "&review_cycle_years=1&body=x", 422, "The category must be 200 characters or fewer"},
		{"policy body 250k", office, "POST", "/policies/new", "title=T&review_cycle_years=1&body=" + long(250_000), 422, "must be 200,000 characters or fewer"},
		{"policy settings category 100k", office, "POST", "/policies/" + itoa(policy) + "/settings", "title=T&category=" + long(100_000) + "&review_cycle_years=1&approval_level=governing_board", 422, "The category must be 200 characters or fewer"},
		{"consent label 100k", office, "POST", "/admin/consents", "kind=consent&title=T&signer=one_parent&renewal=each_year&item-label-1=" + long(100_000), 422, "question 1 must be 500 characters or fewer"},
		{"consent title 100k", office, "POST", "/admin/consents", "kind=consent&title=" + long(100_000) + "&signer=one_parent&renewal=each_year&item-label-1=x", 422, "The title must be 300 characters or fewer"},
		{"agreement part 100k", office, "POST", "/admin/consents", "kind=agreement&title=T&signer=one_parent&renewal=each_year&school_part=a&parent_part=" + long(100_000) + "&child_part=c", 422, "part must be 20,000 characters or fewer"},
		{"typed name 100k", teacher, "POST", "/forms/" + itoa(aup), "version_id=" + itoa(aupVersion) + "&agree=yes&typed_name=Daniel" + long(100_000), 422, "200 characters or fewer"},
		{"sign-in email 100k", anon, "POST", "/sign-in", "email=" + long(100_000) + "%40b.org&password=x", 401, "not right"},
		// Answered like any address: redirected to "Check your email" (post/redirect/get).
		{"lost link email 100k", anon, "POST", "/family/lost", "email=" + long(100_000) + "%40b.org", http.StatusSeeOther, ""},
	}
	for _, tc := range cases {
		var res response
		if tc.method == "GET" {
			res = tc.c.get(tc.path)
		} else {
			res = tc.c.raw(tc.method, tc.path, tc.body, formType)
		}
		if res.status != tc.status || !strings.Contains(res.body, tc.want) {
			body := res.body
			if i := strings.Index(body, "<main"); i >= 0 {
				body = body[i:min(len(body), i+1500)]
			}
			t.Errorf("%s: %s %s = %d, want %d with %q\n%s", tc.name, tc.method, tc.path, res.status, tc.status, tc.want, body)
		}
	}
	if after := a.id(`SELECT (SELECT count(*) FROM policies) + (SELECT count(*) FROM forms) + (SELECT count(*) FROM signatures)`); after != before {
		t.Errorf("bad input saved something: %d rows before, %d after", before, after)
	}
	if n := schoolName(); n != nameBefore {
		t.Errorf("the school's name changed to %.40q", n)
	}

	// A drawn signature whose header claims 60000 × 60000 pixels: a field
	// message, on the parent's form and in class mode.
	bomb := "data:image/png;base64," + base64.StdEncoding.EncodeToString(hugePNG(60000, 60000))
	formPath := "/family/children/" + itoa(child) + "/forms/" + itoa(photo)
	page := parent.get(formPath)
	vals := url.Values{"typed_name": {"Samira Walsh"}, "drawn": {bomb}}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="radio" value="yes"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="checkbox"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	if res := parent.post(formPath, vals); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "drawn signature is too large") {
		t.Errorf("parent's form with a 60000×60000 drawing: %d\n%s", res.status, res.body)
	}
	list := teacher.get("/class-mode?" + url.Values{"class": {"H3"}, "form": {itoa(agreement)}}.Encode())
	links := regexp.MustCompile(`href="(/class-mode/\d+/pupils/\d+\?class=H3)"`).FindStringSubmatch(list.body)
	if links == nil {
		t.Fatalf("class mode list: %d", list.status)
	}
	childPath := strings.ReplaceAll(links[1], "&amp;", "&")
	if res := teacher.post(childPath, url.Values{"agree": {"yes"}, "typed_name": {"Ivy"}, "drawn": {bomb}}); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, "drawing could not be used") {
		t.Errorf("class mode with a 60000×60000 drawing: %d", res.status)
	}
	if after := a.id(`SELECT (SELECT count(*) FROM policies) + (SELECT count(*) FROM forms) + (SELECT count(*) FROM signatures)`); after != before {
		t.Errorf("a refused drawing saved a signature")
	}

	// Malformed text in a multipart form, and a body over the limit.
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("note", "caf\xe9")
	part, _ := w.CreateFormFile("files", "staff.csv")
	_, _ = part.Write([]byte("a,b\n"))
	_ = w.Close()
	if res := office.raw("POST", "/admin/import", body.String(), w.FormDataContentType()); res.status != 400 || !strings.Contains(res.body, utf8Msg) {
		t.Errorf("multipart field with invalid UTF-8: %d", res.status)
	}
	if res := office.uploadField("/admin/import", "files", "big.csv", bytes.Repeat([]byte("a,b\n"), 6<<20)); res.status != http.StatusRequestEntityTooLarge ||
		!strings.Contains(res.body, "too large") {
		t.Errorf("24 MB upload: %d", res.status)
	}

	// A browser description with invalid bytes is tidied, not a 500.
	req, _ := http.NewRequest("POST", a.ts.URL+"/sign-in", strings.NewReader(url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}}.Encode()))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("User-Agent", "Mozilla/5.0 \xff\xfe "+long(2000))
	if res := a.client().do(req); res.status != http.StatusSeeOther {
		t.Errorf("sign-in with a malformed User-Agent: %d", res.status)
	}
}

// TestPaperFormKeepsWhatWasTyped: a bad or oversized scan gets a message
// next to the scan on the same pupil's form, with what the office typed.
func TestPaperFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	pupil := a.id(`SELECT min(g.pupil_id) FROM guardianships g WHERE g.parental_responsibility
		AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.pupil_id = g.pupil_id AND s.form_id = $1)`, photo)
	parent := a.id(`SELECT min(parent_id) FROM guardianships WHERE pupil_id = $1 AND parental_responsibility`, pupil)
	office := a.signedIn(demo.AdminEmail)
	upload := func(scan []byte, name string) response {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("pupil", itoa(pupil))
		_ = w.WriteField("parent", itoa(parent))
		_ = w.WriteField("typed_name", "Jo Typed-Name")
		_ = w.WriteField("paper_date-day", "3")
		_ = w.WriteField("paper_date-month", "10")
		_ = w.WriteField("paper_date-year", "2026")
		part, _ := w.CreateFormFile("scan", name)
		_, _ = part.Write(scan)
		_ = w.Close()
		req, _ := http.NewRequest("POST", a.ts.URL+"/admin/consents/"+itoa(photo)+"/paper", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return office.do(req)
	}
	for _, tc := range []struct {
		name string
		scan []byte
		want string
	}{
		{"form.txt", []byte("not an image"), "must be a PDF, JPEG or PNG"},
		{"form.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 12<<20)...), "10 MB"},
	} {
		res := upload(tc.scan, tc.name)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, "Jo Typed-Name") {
			t.Errorf("%s: %d, want 422 with %q and the typed name kept", tc.name, res.status, tc.want)
		}
	}
	if n := a.id(`SELECT count(*) FROM signatures WHERE pupil_id = $1 AND form_id = $2`, pupil, photo); n != 0 {
		t.Errorf("%d paper records saved", n)
	}
}

// TestPhotoListCSVNeutralisesLabels: a consent question that a
// spreadsheet would run as a formula is quoted in the CSV's header.
func TestPhotoListCSVNeutralisesLabels(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	office := a.signedIn(demo.AdminEmail)
	res := office.post("/admin/consents", url.Values{"kind": {"consent"}, "title": {"Trips"}, "signer": {"one_parent"}, "renewal": {"each_year"},
		"item-label-1": {`=HYPERLINK("http://evil.example","x")`}, "item-photo-1": {"yes"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create the form: %d\n%s", res.status, res.body)
	}
	photo := a.id(`SELECT id FROM forms WHERE title = 'Trips'`)
	teacher := a.signedIn(demo.StaffEmail)
	res = teacher.get("/classes/photos.csv?" + url.Values{"class": {"H3"}, "form": {itoa(photo)}}.Encode())
	if res.status != 200 {
		t.Fatalf("photos.csv: %d", res.status)
	}
	header, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).Read()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range header {
		if strings.Contains(h, "HYPERLINK") {
			found = true
			if !strings.HasPrefix(h, "'") {
				t.Errorf("header cell %q is not neutralised", h)
			}
		}
	}
	if !found {
		t.Fatalf("the label is not in the header: %v", header)
	}
}

// TestConcurrentWrongPasswordsAreLimited sends 20 wrong passwords for one
// address at once, against a limit of 10: at most 10 are checked (the
// others are refused as too many), and then even the right one waits.
func TestConcurrentWrongPasswordsAreLimited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a.client()
			req, _ := http.NewRequest("POST", a.ts.URL+"/sign-in", strings.NewReader(url.Values{"email": {demo.StaffEmail}, "password": {"wrong-" + itoa(i)}}.Encode()))
			req.Header.Set("Content-Type", formType)
			<-start
			res, err := c.http.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			codes[res.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if codes[http.StatusUnauthorized] > 10 || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 20 {
		t.Fatalf("answers to 20 concurrent wrong passwords: %v; want at most 10 checked (401), the rest 429", codes)
	}
	res := a.client().post("/sign-in", url.Values{"email": {demo.StaffEmail}, "password": {demo.Password}})
	if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "Too many attempts") {
		t.Fatalf("the right password after the limit: %d, want 429", res.status)
	}
}

// TestPasswordChangeEndsOtherSessions: changing the password signs the
// account out everywhere else, and not where it was changed.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	here := a.signedIn(demo.StaffEmail)
	elsewhere := a.signedIn(demo.StaffEmail)
	if res := elsewhere.get("/account"); res.status != 200 {
		t.Fatalf("the other session before: %d", res.status)
	}
	res := here.post("/account/password", url.Values{"current_password": {demo.Password}, "new_password": {"three random words"}, "confirm_password": {"three random words"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change password: %d\n%s", res.status, res.body)
	}
	if res := here.get("/account"); res.status != 200 {
		t.Errorf("the session that changed the password: %d, want it kept", res.status)
	}
	if res := elsewhere.get("/account"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/sign-in") {
		t.Errorf("the other session after the change: %d %s, want sent to sign in", res.status, res.location)
	}
}

// TestFamilyLinkSessionsAndLostLinks: a new printed link ends the
// sessions opened with the old one; a request for a lost link (which
// anyone can make) sends a new link and leaves the old one working.
func TestFamilyLinkSessionsAndLostLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	school, parentID, _ := a.demoParent()
	var email string
	_ = a.db.Pool.QueryRow(ctx, `SELECT email FROM people WHERE id = $1`, parentID).Scan(&email)
	link, err := auth.NewStore(a.db).IssueFamilyLink(ctx, school, parentID, audit.System("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	token := link.Token
	first, byLetter := a.client(), a.client()
	for _, c := range []*client{first, byLetter} {
		if res := c.get("/f/" + token); res.status != http.StatusSeeOther {
			t.Fatalf("the letter's link: %d", res.status)
		}
	}

	// Someone asks for a lost link with the parent's address.
	if res := a.client().post("/family/lost", url.Values{"email": {email}}); res.status != http.StatusSeeOther {
		t.Fatalf("lost link: %d", res.status)
	}
	if n := a.id(`SELECT count(*) FROM outbox WHERE to_address = $1`, email); n == 0 {
		t.Fatal("no new link was sent")
	}
	if res := a.client().get("/f/" + token); res.status != http.StatusSeeOther {
		t.Errorf("the letter's link after a lost-link request: %d, want it still working", res.status)
	}
	if res := byLetter.get("/family"); res.status != 200 {
		t.Errorf("the letter's session after a lost-link request: %d", res.status)
	}

	// The office prints a new link: the old links and their sessions end.
	office := a.signedIn(demo.AdminEmail)
	if res := office.post("/admin/parents/"+itoa(parentID)+"/family-link/print", nil); res.status != http.StatusSeeOther {
		t.Fatalf("print a new link: %d", res.status)
	}
	for name, c := range map[string]*client{"first": first, "letter": byLetter} {
		if res := c.get("/family"); res.status == 200 {
			t.Errorf("the %s session still works after the link was replaced", name)
		}
	}
	if res := a.client().get("/f/" + token); res.status != http.StatusUnauthorized {
		t.Errorf("the replaced link: %d, want 401", res.status)
	}
}
