package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"signoff/internal/demo"
	"signoff/internal/i18n"
)

// TestReceiptInTheParentsLanguage: a parent who answers in Arabic, then
// in Polish, is emailed the receipt in that language, with the date and
// the child's class in it; a letter printed for them afterwards is in
// Polish, the language they last answered in.
func TestReceiptInTheParentsLanguage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	_, parentID, _ := a.demoParent()
	photo := a.formID("Photo consent")
	p := a.parent(parentID)
	home := p.get("/family")
	var children []string
	for _, m := range regexp.MustCompile(`/family/children/(\d+)/forms/`+itoa(photo)+`"`).FindAllStringSubmatch(home.body, -1) {
		children = append(children, m[1])
	}
	if len(children) < 2 {
		t.Fatalf("children with the photo form: %v", children)
	}
	radios := regexp.MustCompile(`name="(item-\d+)" type="(?:radio|checkbox)"`)
	for i, c := range []struct{ lang, thanks, class string }{
		{"ar", "شكرًا لك. تسلّمت Hollybrook Primary School إجاباتك على «Photo consent»", "الصف"},
		{"pl", "Dziękujemy. Szkoła Hollybrook Primary School otrzymała Twoje odpowiedzi w formularzu „Photo consent”", "klasa"},
	} {
		path := "/family/children/" + children[i] + "/forms/" + itoa(photo)
		form := p.get(path + "?lang=" + c.lang)
		vals := url.Values{"typed_name": {"Samira Walsh"}}
		for _, m := range radios.FindAllStringSubmatch(form.body, -1) {
			vals.Set(m[1], "yes")
		}
		res := p.post(path, vals)
		if res.status != http.StatusSeeOther {
			t.Fatalf("%s: submit: %d", c.lang, res.status)
		}
		ref := strings.TrimSuffix(strings.TrimPrefix(res.location, "/family/records/"), "?done=1")
		var subject, body string
		if err := a.db.Pool.QueryRow(ctx, `SELECT subject, body_text FROM outbox WHERE kind = 'consent_receipt' AND dedupe_key = $1`, "receipt:"+ref).
			Scan(&subject, &body); err != nil {
			t.Fatalf("%s: receipt: %v", c.lang, err)
		}
		lang := i18n.ByCode(c.lang)
		for _, want := range []string{c.thanks, lang.Date(a.db.Now()), lang.T("Reference: %s", ref), lang.T("Yes")} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the receipt lacks %q:\n%s", c.lang, want, body)
			}
		}
		if class := regexp.MustCompile(`\(([^)]*)\)\.`).FindStringSubmatch(body); class == nil || !strings.Contains(class[1], c.class) {
			t.Errorf("%s: the child's class is not in the parent's language:\n%s", c.lang, body)
		}
		// The signed copy writes its dates, and the child's year, in Polish;
		// an Arabic one (its fonts cannot draw Arabic) in English.
		copyText := strings.Join(strings.Fields(pdfText(t, p.get("/family/records/"+ref+"/copy.pdf").body)), " ")
		year := lang.YearGroup(int(a.id(`SELECT year_group FROM people WHERE id = $1`, children[i])))
		if c.lang == "pl" && (!strings.Contains(copyText, lang.Date(a.db.Now())) || !strings.Contains(copyText, year)) {
			t.Errorf("the Polish copy's dates or year are not in Polish:\n%s", copyText)
		}
		if c.lang == "ar" && !strings.Contains(copyText, i18n.English.Date(a.db.Now())) {
			t.Errorf("the Arabic parent's copy has no English date:\n%s", copyText)
		}
		if strings.Contains(body, "December") || strings.Contains(body, "Thank you") || !strings.HasPrefix(subject, lang.T("Receipt: %s for %s", "Photo consent", "")) {
			t.Errorf("%s: English left in the receipt: %s\n%s", c.lang, subject, body)
		}
	}

	// Without an email address, the parent is sent a letter for the
	// home-school agreement: in Polish.
	if _, err := a.db.Pool.Exec(ctx, `UPDATE people SET email = NULL WHERE id = $1`, parentID); err != nil {
		t.Fatal(err)
	}
	office := a.signedIn(demo.AdminEmail)
	res := office.post("/admin/consents/"+itoa(a.formID("Home-school agreement"))+"/letters", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("letters: %d", res.status)
	}
	letters := office.get(res.location)
	if letters.status != 200 {
		t.Fatalf("letters: %d", letters.status)
	}
	text := strings.Join(strings.Fields(pdfText(t, letters.body)), " ")
	pl := i18n.ByCode("pl")
	for _, want := range []string{pl.T("Your children’s school forms"), pl.T("Please fill in these forms:"), "klasa", pl.Date(a.db.Now())} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter lacks %q:\n%s", want, text)
		}
	}
}
