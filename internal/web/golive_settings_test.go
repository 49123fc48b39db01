package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/demo"
	"signoff/internal/onboarding"
)

// newLiveSchool sets up a school (as `signoff school add` would, with a
// password) on an empty installation and signs its administrator in.
func newLiveSchool(t *testing.T) (*app, *client) {
	t.Helper()
	a := newEmptyApp(t)
	if _, err := onboarding.NewStore(a.db).CreateSchool(context.Background(), onboarding.NewSchool{Name: "Willowbank Primary School",
		AdminName: "Sam Patel", AdminEmail: "office@willowbank.example.sch.uk", AdminPassword: "willowbank office", ConfirmPassword: "willowbank office"},
		audit.System("test"), nil); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	if res := c.post("/sign-in", url.Values{"email": {"office@willowbank.example.sch.uk"}, "password": {"willowbank office"}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.status)
	}
	return a, c
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, h/2, color.RGBA{0, 89, 79, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// withIHDR rewrites a PNG's header to claim w × h pixels (with a right CRC),
// as a decompression bomb would.
func withIHDR(p []byte, w, h uint32) []byte {
	out := bytes.Clone(p)
	binary.BigEndian.PutUint32(out[16:], w)
	binary.BigEndian.PutUint32(out[20:], h)
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

func TestGoingLiveChecklistAndSchoolDetails(t *testing.T) {
	t.Parallel()
	a, office := newLiveSchool(t)
	dash := office.get("/admin/tracking")
	if dash.status != 200 || !strings.Contains(dash.body, "Set up your school") || !strings.Contains(dash.body, "0 of 5 steps done") ||
		!strings.Contains(dash.body, `href="/admin/school"`) || !strings.Contains(dash.body, `href="/admin/staff/invite"`) ||
		!strings.Contains(dash.body, "Still to enter: the DfE URN, the reply-to address for emails, the privacy notice") {
		t.Fatalf("checklist on a new school's dashboard: %d\n%s", dash.status, dash.body)
	}

	// Bad details: each field says what is wrong, nothing is saved.
	bad := office.post("/admin/school", url.Values{"name": {"Willowbank Primary School"}, "urn": {"12345"}, "colour": {"#ffdd00"},
		"family_link_days": {"90"}, "mail_from_address": {"office at willowbank"}, "reply_to": {"x@"}, "privacy_notice_url": {"ftp://willowbank.example/privacy"}})
	for _, want := range []string{`href="#urn"`, `href="#colour"`, "contrast ratio of 1.", `href="#mail_from_address"`, `href="#reply_to"`, `href="#privacy_notice_url"`, `value="12345"`} {
		if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, want) {
			t.Fatalf("bad details: %d, lacks %s\n%s", bad.status, want, bad.body)
		}
	}
	if urn := a.str(`SELECT urn FROM schools`); urn != "" {
		t.Fatalf("a refused form saved the URN %q", urn)
	}
	good := office.post("/admin/school", url.Values{"name": {"Willowbank Primary School"}, "urn": {"123 456"}, "colour": {"#00594f"},
		"family_link_days": {"90"}, "mail_from_name": {"Willowbank office"}, "mail_from_address": {"office@willowbank.example.sch.uk"},
		"reply_to": {"Office@Willowbank.example.sch.uk"}, "privacy_notice_url": {"https://willowbank.example.sch.uk/privacy"}})
	if good.status != http.StatusSeeOther {
		t.Fatalf("good details: %d\n%s", good.status, good.body)
	}
	if got := a.str(`SELECT urn || ' ' || reply_to || ' ' || privacy_notice_url || ' ' || mail_from_name FROM schools`); got != "123456 office@willowbank.example.sch.uk https://willowbank.example.sch.uk/privacy Willowbank office" {
		t.Fatalf("saved %q", got)
	}
	if dash := office.get("/admin/tracking"); !strings.Contains(dash.body, "1 of 5 steps done") {
		t.Fatalf("details step not ticked:\n%s", dash.body)
	}

	// The logo: refused when it is not an image, too big, or claims too
	// many pixels (read from its header, before any pixel is decoded).
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"text":  {[]byte("not an image at all, just text"), "must be a PNG or JPEG"},
		"wide":  {pngOf(2100, 20), "between 16 and 2000 pixels"},
		"bomb":  {withIHDR(pngOf(20, 20), 100000, 100000), "this one is 100000 × 100000"},
		"large": {bytes.Repeat([]byte{0x89}, 600<<10), "512 KB or smaller"},
	} {
		res := office.uploadField("/admin/school/logo", "logo", name+".png", c.data)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, c.want) || !strings.Contains(res.body, `href="#logo"`) {
			t.Errorf("logo %s: %d, want %q", name, res.status, c.want)
		}
	}
	if n := a.id(`SELECT count(*) FROM school_logos`); n != 0 {
		t.Fatal("a refused logo was saved")
	}
	logo := pngOf(240, 80)
	if res := office.uploadField("/admin/school/logo", "logo", "logo.png", logo); res.status != http.StatusSeeOther {
		t.Fatalf("logo upload: %d\n%s", res.status, res.body)
	}
	page := office.get("/admin/school")
	src := regexp.MustCompile(`<img src="(/logo/\d+/[0-9a-f]{16})" alt="" class="app-header__logo"`).FindStringSubmatch(page.body)
	if src == nil {
		t.Fatalf("the header has no logo:\n%s", page.body)
	}
	anon := a.client()
	img := anon.get(src[1])
	if img.status != 200 || img.header.Get("Content-Type") != "image/png" || img.body != string(logo) || !strings.Contains(img.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("the logo: %d %s", img.status, img.header.Get("Content-Type"))
	}
	if res := anon.get(src[1][:len(src[1])-1] + "0"); res.status != http.StatusNotFound && src[1][len(src[1])-1] != '0' {
		t.Fatalf("a logo under a wrong hash: %d", res.status)
	}
	if res := anon.get("/sign-in"); !strings.Contains(res.body, src[1]) {
		t.Fatal("the sign-in page of a one-school installation does not show its logo")
	}
	if res := office.post("/admin/school/logo/remove", nil); res.status != http.StatusSeeOther {
		t.Fatalf("remove logo: %d", res.status)
	}
	if page := office.get("/admin/school"); strings.Contains(page.body, "app-header__logo") {
		t.Fatal("the logo is still shown after removing it")
	}
}

// TestLogoOnSignedCopiesAndLetters: once a school has a logo, its signed
// copies and its letters to families print it.
func TestLogoOnSignedCopiesAndLetters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	office := a.signedIn(demo.AdminEmail)
	ref := a.str(`SELECT reference FROM signatures WHERE pupil_id IS NULL ORDER BY id LIMIT 1`)
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	parentID := a.id(`SELECT p.id FROM guardianships g JOIN people p ON p.id = g.parent_id
		WHERE g.parental_responsibility AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = $1 AND s.pupil_id = g.pupil_id)
		ORDER BY p.id LIMIT 1`, photo)
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET email = NULL WHERE id = $1`, parentID); err != nil {
		t.Fatal(err)
	}
	images := func() (copyImages, letterImages int) {
		pdf := office.get("/signatures/" + ref + "/copy.pdf")
		letters := office.post("/admin/consents/"+itoa(photo)+"/letters", nil)
		if letters.status == http.StatusSeeOther {
			letters = office.get(letters.location)
		}
		if pdf.status != 200 || letters.status != 200 {
			t.Fatalf("signed copy %d, letters %d", pdf.status, letters.status)
		}
		return strings.Count(pdf.body, "/Subtype /Image"), strings.Count(letters.body, "/Subtype /Image")
	}
	copyBefore, lettersBefore := images()
	if res := office.uploadField("/admin/school/logo", "logo", "logo.png", pngOf(300, 100)); res.status != http.StatusSeeOther {
		t.Fatalf("logo upload: %d", res.status)
	}
	copyAfter, lettersAfter := images()
	// A logo with transparency is two image objects: the picture and its mask.
	if copyAfter != copyBefore+2 || lettersAfter != lettersBefore+2 {
		t.Fatalf("images in the signed copy %d → %d, in the letters %d → %d: want the logo and its mask in each", copyBefore, copyAfter, lettersBefore, lettersAfter)
	}
}

// TestLogoOnTheParentsReceipt: the copy emailed to a parent carries the
// school's logo, as the copy they download does.
func TestLogoOnTheParentsReceipt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	office := a.signedIn(demo.AdminEmail)
	if res := office.uploadField("/admin/school/logo", "logo", "logo.png", pngOf(300, 100)); res.status != http.StatusSeeOther {
		t.Fatalf("logo upload: %d", res.status)
	}
	_, parentID, _ := a.demoParent()
	photo := a.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	p := a.parent(parentID)
	kid := regexp.MustCompile(`/family/children/(\d+)/forms/` + itoa(photo)).FindStringSubmatch(p.get("/family").body)
	if kid == nil {
		t.Fatal("no photo form for the demo parent")
	}
	path := "/family/children/" + kid[1] + "/forms/" + itoa(photo)
	page := p.get(path)
	vals := url.Values{"typed_name": {a.str(`SELECT given_name || ' ' || family_name FROM people WHERE id = $1`, parentID)}}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="radio" value="yes"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	for _, m := range regexp.MustCompile(`name="(item-\d+)" type="checkbox"`).FindAllStringSubmatch(page.body, -1) {
		vals.Set(m[1], "yes")
	}
	if sub := p.post(path, vals); sub.status != http.StatusSeeOther {
		t.Fatalf("submit: %d", sub.status)
	}
	var receipt []byte
	if err := a.db.Pool.QueryRow(ctx, `SELECT x.data FROM outbox_attachments x JOIN outbox o ON o.id = x.outbox_id
		WHERE o.kind = 'consent_receipt' ORDER BY o.id DESC LIMIT 1`).Scan(&receipt); err != nil {
		t.Fatalf("receipt: %v", err)
	}
	// The logo with its transparency is two image objects.
	if n := bytes.Count(receipt, []byte("/Subtype /Image")); n < 2 {
		t.Fatalf("the receipt's copy has %d images, want the logo and its mask", n)
	}
}
