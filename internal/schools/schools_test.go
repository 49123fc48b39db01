package schools_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/limits"
	"signoff/internal/schools"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var office = audit.Actor{Name: "office", IP: "127.0.0.1"}

// fieldsOf is the fields err names ("name,slug"); its code must be Invalid.
func fieldsOf(t *testing.T, err error) string {
	t.Helper()
	if err != nil && apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("code %s, want invalid: %v", apperr.CodeOf(err), err)
	}
	return apperr.FieldNames(err)
}

func valid() schools.School {
	return schools.School{Slug: "hollybrook", Name: "Hollybrook Primary School"}
}

func TestValidateTidiesAndDefaults(t *testing.T) {
	t.Parallel()
	s := schools.School{Slug: "st-marys", Name: "  St Mary's  ", Colour: " #1D70B8 ", URN: " 123 456 ",
		MailFromAddress: " Office@School.Example ", ReplyTo: "Reply@School.Example", PrivacyNoticeURL: " https://school.example/privacy "}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Name != "St Mary's" || s.Colour != "#1d70b8" || s.URN != "123456" || s.MailFromAddress != "office@school.example" ||
		s.ReplyTo != "reply@school.example" || s.PrivacyNoticeURL != "https://school.example/privacy" {
		t.Fatalf("not tidied: %+v", s)
	}
	if s.FamilyLinkDays != 90 {
		t.Fatalf("family link days default %d, want 90", s.FamilyLinkDays)
	}
	d := valid()
	if err := d.Validate(); err != nil || d.Colour != "#1d70b8" {
		t.Fatalf("empty colour: %v %q", err, d.Colour)
	}
}

func TestValidateRefuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", limits.Name+1)
	cases := []struct {
		name  string
		edit  func(*schools.School)
		field string
	}{
		{"no name", func(s *schools.School) { s.Name = "  " }, "name"},
		{"long name", func(s *schools.School) { s.Name = long }, "name"},
		{"two-line name", func(s *schools.School) { s.Name = "Holly\nbrook" }, "name"},
		{"slug with capitals", func(s *schools.School) { s.Slug = "Hollybrook" }, "slug"},
		{"one-letter slug", func(s *schools.School) { s.Slug = "h" }, "slug"},
		{"slug starting with a hyphen", func(s *schools.School) { s.Slug = "-holly" }, "slug"},
		{"colour without #", func(s *schools.School) { s.Colour = "1d70b8" }, "colour"},
		{"three-digit colour", func(s *schools.School) { s.Colour = "#fff" }, "colour"},
		{"colour too light for white text", func(s *schools.School) { s.Colour = "#ffdd00" }, "colour"},
		{"five-digit URN", func(s *schools.School) { s.URN = "12345" }, "urn"},
		{"seven-digit URN", func(s *schools.School) { s.URN = "1234567" }, "urn"},
		{"URN with a letter", func(s *schools.School) { s.URN = "12345a" }, "urn"},
		{"family links for 401 days", func(s *schools.School) { s.FamilyLinkDays = 401 }, "family_link_days"},
		{"family links for a negative period", func(s *schools.School) { s.FamilyLinkDays = -1 }, "family_link_days"},
		{"long sender name", func(s *schools.School) { s.MailFromName = long }, "mail_from_name"},
		{"sender name with a line break", func(s *schools.School) { s.MailFromName = "Office\r\nBcc: x@y.z" }, "mail_from_name"},
		{"sender address with a name", func(s *schools.School) { s.MailFromAddress = "Office <office@school.example>" }, "mail_from_address"},
		{"long sender address", func(s *schools.School) { s.MailFromAddress = strings.Repeat("a", 250) + "@b.example" }, "mail_from_address"},
		{"two reply-to addresses", func(s *schools.School) { s.ReplyTo = "a@school.example, b@school.example" }, "reply_to"},
		{"privacy notice not on the web", func(s *schools.School) { s.PrivacyNoticeURL = "ftp://school.example/privacy" }, "privacy_notice_url"},
		{"privacy notice without a host", func(s *schools.School) { s.PrivacyNoticeURL = "https:///privacy" }, "privacy_notice_url"},
		{"privacy notice with a space", func(s *schools.School) { s.PrivacyNoticeURL = "https://school.example/privacy notice" }, "privacy_notice_url"},
		{"long privacy notice address", func(s *schools.School) { s.PrivacyNoticeURL = "https://school.example/" + strings.Repeat("p", 480) }, "privacy_notice_url"},
	}
	for _, c := range cases {
		s := valid()
		c.edit(&s)
		got := fieldsOf(t, s.Validate())
		if got != c.field {
			t.Errorf("%s: fields %v, want [%s]", c.name, got, c.field)
		}
	}
	// Every field wrong at once: one message each, in form order.
	s := schools.School{Slug: "X", Colour: "red", URN: "1", FamilyLinkDays: 500, MailFromAddress: "nope", ReplyTo: "nope", PrivacyNoticeURL: "nope"}
	want := []string{"name", "slug", "colour", "family_link_days", "urn", "mail_from_address", "reply_to", "privacy_notice_url"}
	if got := fieldsOf(t, s.Validate()); got != strings.Join(want, ",") {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

func TestContrastWithWhite(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		colour string
		want   float64
	}{
		{"#000000", 21}, {"#ffffff", 1}, {"#1d70b8", 5.17}, {"#767676", 4.54}, {"#777777", 4.48}, {"not a colour", 1},
	} {
		if got := schools.ContrastWithWhite(c.colour); math.Abs(got-c.want) > 0.01 {
			t.Errorf("%s: %.3f, want %.2f", c.colour, got, c.want)
		}
	}
	// The limit is WCAG's 4.5 to 1, and the message gives the ratio.
	for colour, ok := range map[string]bool{"#767676": true, "#777777": false} {
		s := valid()
		s.Colour = colour
		err := s.Validate()
		if (err == nil) != ok {
			t.Errorf("%s: %v", colour, err)
		}
		if !ok && !strings.Contains(apperr.FieldsOf(err)[0].Message, "4.5 to 1") {
			t.Errorf("%s: message %q", colour, apperr.FieldsOf(err)[0].Message)
		}
	}
}

func TestSlugFrom(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"St Mary's C of E Primary School": "st-marys-c-of-e-primary-school",
		"Hollybrook & Ash Federation":     "hollybrook-and-ash-federation",
		"Ash&Oak Schools":                 "ash-and-oak-schools",
		"Ysgol Gymraeg Bro Ddyfi – Côr":   "ysgol-gymraeg-bro-ddyfi-cor",
		"  --  ":                          "school",
		"Ä":                               "school",
		strings.Repeat("Oak ", 30):        strings.TrimRight(strings.Repeat("oak-", 15), "-"),
	} {
		got := schools.SlugFrom(in)
		if got != want {
			t.Errorf("SlugFrom(%q) = %q, want %q", in, got, want)
		}
		if !schools.ValidSlug(got) {
			t.Errorf("SlugFrom(%q) = %q is not a valid slug", in, got)
		}
	}
}

type fixture struct {
	t  *testing.T
	db *database.DB
	st *schools.Store
}

func newFixture(t *testing.T) *fixture {
	db := dbtest.New(t)
	return &fixture{t: t, db: db, st: schools.NewStore(db)}
}

func (f *fixture) create(s schools.School) (schools.School, error) {
	err := f.db.InTx(context.Background(), func(tx pgx.Tx) error { return schools.CreateTx(context.Background(), tx, &s) })
	return s, err
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	return dbtest.Scalar[int](f.t, f.db, q, args...)
}

func TestCreateAndRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	st := f.st
	s, err := f.create(schools.School{Slug: "hollybrook", Name: "Hollybrook Primary School", Colour: "#00594F", URN: "900001",
		MailFromName: "Hollybrook office", ReplyTo: "office@hollybrook.example"})
	if err != nil || s.ID == 0 {
		t.Fatalf("create: %v %d", err, s.ID)
	}
	got, err := st.BySlug(ctx, "hollybrook")
	if err != nil || got.ID != s.ID || got.Colour != "#00594f" || got.URN != "900001" || got.FamilyLinkDays != 90 ||
		got.MailFromName != "Hollybrook office" || got.ReplyTo != "office@hollybrook.example" || got.TrustID != 0 || got.HasLogo() {
		t.Fatalf("by slug: %v %+v", err, got)
	}
	if byID, err := st.Get(ctx, s.ID); err != nil || byID != got {
		t.Fatalf("by id: %v %+v", err, byID)
	}
	if _, err := st.Get(ctx, s.ID+100); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := st.BySlug(ctx, "nowhere"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown slug: %v", err)
	}
	// The same short name again is a message on the field, not a 500.
	_, err = f.create(schools.School{Slug: "hollybrook", Name: "Another Hollybrook"})
	if got := fieldsOf(t, err); got != "slug" {
		t.Fatalf("duplicate slug: %v", err)
	}
	// An invalid school is not inserted.
	if _, err := f.create(schools.School{Slug: "bad", Name: "Bad", URN: "12"}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("invalid: %v", err)
	}
	if n, _ := st.Count(ctx); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	if _, err := f.create(schools.School{Slug: "ashfield", Name: "Ashfield Academy"}); err != nil {
		t.Fatal(err)
	}
	list, err := st.List(ctx)
	if err != nil || len(list) != 2 || list[0].Slug != "ashfield" || list[1].Slug != "hollybrook" {
		t.Fatalf("list by name: %v %+v", err, list)
	}
}

func TestUpdateIsAuditedAndAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	st := f.st
	s, err := f.create(valid())
	if err != nil {
		t.Fatal(err)
	}
	audits := func() int {
		return f.count(`SELECT count(*) FROM audit_log WHERE school_id = $1 AND action = 'school.settings_changed'`, s.ID)
	}
	next := s
	next.Name, next.URN, next.FamilyLinkDays = "Hollybrook Primary", "654321", 30
	if err := st.Update(ctx, next, office); err != nil {
		t.Fatal(err)
	}
	var detail map[string]string
	if err := f.db.Pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE school_id = $1 AND action = 'school.settings_changed'`, s.ID).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if len(detail) != 3 || detail["name"] != "Hollybrook Primary School → Hollybrook Primary" || detail["urn"] != " → 654321" ||
		detail["family_link_days"] != "90 → 30" {
		t.Fatalf("detail: %v", detail)
	}
	// Saving the same values records nothing.
	if err := st.Update(ctx, next, office); err != nil || audits() != 1 {
		t.Fatalf("no change: %v, %d entries", err, audits())
	}
	// A bad value saves nothing, not even the good ones beside it.
	bad := next
	bad.Name, bad.Colour = "Renamed", "#ffff00"
	if got := fieldsOf(t, st.Update(ctx, bad, office)); got != "colour" {
		t.Fatalf("bad colour: %v", got)
	}
	if got, _ := st.Get(ctx, s.ID); got.Name != "Hollybrook Primary" || audits() != 1 {
		t.Fatalf("half saved: %+v", got)
	}
	gone := next
	gone.ID = s.ID + 100
	if err := st.Update(ctx, gone, office); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown school: %v", err)
	}
}

func TestTrustMembership(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	st := f.st
	tr := schools.Trust{Name: "Oak Learning Trust"}
	if err := st.CreateTrust(ctx, &tr, office); err != nil {
		t.Fatal(err)
	}
	if tr.ID == 0 || tr.Slug != "oak-learning-trust" {
		t.Fatalf("trust: %+v", tr)
	}
	// Trusts are audited in the installation's own chain (no school).
	if n := f.count(`SELECT count(*) FROM audit_log WHERE school_id IS NULL AND action = 'trust.created' AND subject = 'trust oak-learning-trust'`); n != 1 {
		t.Fatalf("trust audit entries: %d", n)
	}
	again := schools.Trust{Name: "Oak Learning Trust"}
	if got := fieldsOf(t, st.CreateTrust(ctx, &again, office)); got != "slug" {
		t.Fatalf("duplicate trust: %v", got)
	}
	noName := schools.Trust{}
	if got := fieldsOf(t, st.CreateTrust(ctx, &noName, office)); got != "name,slug" {
		t.Fatalf("empty trust: %v", got)
	}
	if got, err := st.TrustBySlug(ctx, "oak-learning-trust"); err != nil || got != tr {
		t.Fatalf("by slug: %v %+v", err, got)
	}
	if got, err := st.TrustByID(ctx, tr.ID); err != nil || got != tr {
		t.Fatalf("by id: %v %+v", err, got)
	}
	if _, err := st.TrustByID(ctx, tr.ID+1); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown trust: %v", err)
	}

	members := map[string]int64{}
	for _, n := range []string{"Willow", "Ash", "Birch"} {
		s, err := f.create(schools.School{Slug: strings.ToLower(n), Name: n + " School", TrustID: tr.ID})
		if err != nil {
			t.Fatal(err)
		}
		members[n] = s.ID
	}
	alone, err := f.create(schools.School{Slug: "solo", Name: "Solo School"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.create(schools.School{Slug: "ghost", Name: "Ghost School", TrustID: tr.ID + 99}); err == nil {
		t.Fatal("a school joined a trust that does not exist")
	}
	names := func(list []schools.School) string {
		var out []string
		for _, s := range list {
			out = append(out, s.Name)
		}
		return strings.Join(out, ", ")
	}
	inTrust, err := st.InTrust(ctx, tr.ID)
	if err != nil || names(inTrust) != "Ash School, Birch School, Willow School" {
		t.Fatalf("in trust: %v %s", err, names(inTrust))
	}
	for _, s := range inTrust {
		if s.TrustID != tr.ID {
			t.Fatalf("%s: trust %d", s.Name, s.TrustID)
		}
	}
	// A member sees its trust's schools; a school in no trust sees itself.
	if side, err := st.TrustSchools(ctx, members["Willow"]); err != nil || names(side) != "Ash School, Birch School, Willow School" {
		t.Fatalf("trust schools of a member: %v %s", err, names(side))
	}
	if side, err := st.TrustSchools(ctx, alone.ID); err != nil || names(side) != "Solo School" {
		t.Fatalf("trust schools of a school in no trust: %v %s", err, names(side))
	}
}

func TestFreeSlug(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	free := func(base string) string {
		var slug string
		if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			slug, err = schools.FreeSlugTx(ctx, tx, base)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return slug
	}
	if got := free("oak"); got != "oak" {
		t.Fatalf("free: %q", got)
	}
	for _, slug := range []string{"oak", "oak-2"} {
		if _, err := f.create(schools.School{Slug: slug, Name: "Oak"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := free("oak"); got != "oak-3" {
		t.Fatalf("after two: %q", got)
	}
	long := strings.Repeat("a", 63)
	if _, err := f.create(schools.School{Slug: long, Name: "Long"}); err != nil {
		t.Fatal(err)
	}
	if got := free(long); got != strings.Repeat("a", 61)+"-2" || !schools.ValidSlug(got) {
		t.Fatalf("long: %q", got)
	}
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{0, 89, 79, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLogo(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not image": []byte("GIF89a not really"),
		"too small": pngOf(t, 15, 40),
		"too big":   pngOf(t, 2001, 16),
		"too heavy": append(pngOf(t, 16, 16), make([]byte, schools.MaxLogoBytes)...),
		"truncated": pngOf(t, 64, 64)[:80],
	} {
		if got := fieldsOf(t, func() error { _, err := schools.CheckLogo(data); return err }()); got != "logo" {
			t.Errorf("%s: %v", name, got)
		}
	}
	f := newFixture(t)
	ctx := context.Background()
	st := f.st
	s, err := f.create(valid())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := st.LogoPNG(ctx, s.ID); err != nil || b != nil {
		t.Fatalf("no logo: %v %d bytes", err, len(b))
	}
	data := pngOf(t, 120, 40)
	if err := st.SetLogo(ctx, s.ID, data, office); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, s.ID)
	if err != nil || !got.HasLogo() || !strings.HasPrefix(got.LogoPath(), "/logo/") || !strings.HasSuffix(got.LogoPath(), got.LogoSHA256[:16]) {
		t.Fatalf("school with logo: %v %+v %s", err, got, got.LogoPath())
	}
	l, err := st.GetLogo(ctx, s.ID)
	if err != nil || l.Width != 120 || l.Height != 40 || l.ContentType != "image/png" || !bytes.Equal(l.Data, data) || l.SHA256 != got.LogoSHA256 {
		t.Fatalf("logo: %v %dx%d %s", err, l.Width, l.Height, l.ContentType)
	}
	// The plain PNG for PDFs: the logo's own conversion, the same bytes
	// each time, and the new logo's once it is replaced.
	for _, want := range [][]byte{data, data, pngOf(t, 90, 30)} {
		if !bytes.Equal(want, data) {
			if err := st.SetLogo(ctx, s.ID, want, office); err != nil {
				t.Fatal(err)
			}
		}
		cur, err := st.GetLogo(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := cur.PNG()
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.LogoPNG(ctx, s.ID)
		if err != nil || !bytes.Equal(b, plain) || !bytes.Equal(cur.Data, want) {
			t.Fatalf("plain logo: %v, %d bytes, want %d", err, len(b), len(plain))
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 3*cfg.Height {
			t.Fatalf("plain logo: %v %+v", err, cfg)
		}
	}
	l, _ = st.GetLogo(ctx, s.ID)
	if err := st.SetLogo(ctx, s.ID, []byte("junk"), office); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("junk logo: %v", err)
	}
	if again, _ := st.GetLogo(ctx, s.ID); again.SHA256 != l.SHA256 {
		t.Fatal("a refused logo replaced the good one")
	}
	if err := st.RemoveLogo(ctx, s.ID, office); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveLogo(ctx, s.ID, office); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetLogo(ctx, s.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("removed logo: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE school_id = $1 AND action IN ('school.logo_changed', 'school.logo_removed')`, s.ID); n != 3 {
		t.Fatalf("logo audit entries: %d, want 3 (set twice, removed once)", n)
	}
}
