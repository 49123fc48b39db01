package web

import (
	"strings"

	"signoff/internal/consent"
	"signoff/internal/i18n"
	"signoff/internal/people"
)

// receiptText is the receipt emailed to a parent for a record, in the
// language they answered in: its fixed text, the child's class and the
// date through the catalogs; the form's own words as the school wrote them.
func receiptText(lang i18n.Lang, school string, parent people.Person, cf consent.ChildForm, rec consent.Record, recordURL string) (subject, body string) {
	child := cf.State.Pupil.DisplayName()
	if class := classLabelIn(lang, cf.State.Pupil); class != "" {
		child += " (" + class + ")"
	}
	var b strings.Builder
	b.WriteString(lang.T("Hello %s,", parent.GivenName) + "\n\n")
	b.WriteString(lang.T("Thank you. %s has received your answers to “%s” for %s.", school, cf.Form.Title, child) + "\n\n")
	for _, it := range cf.Items {
		if it.Kind != consent.ConsentItem {
			continue
		}
		a := lang.T("No")
		if rec.Answers[it.ID] {
			a = lang.T("Yes")
		}
		b.WriteString("- " + it.Label + ": " + a + "\n")
	}
	b.WriteString("\n" + lang.T("Reference: %s", rec.Reference) + "\n")
	b.WriteString(lang.T("Date: %s", lang.DateTime(rec.SignedAt)) + "\n\n")
	b.WriteString(lang.T("Your signed copy is attached. You can see your answers or change one at any time with your family link:") + "\n")
	b.WriteString(recordURL + "\n\n" + school + "\n")
	return lang.T("Receipt: %s for %s", cf.Form.Title, cf.State.Pupil.DisplayName()), b.String()
}
