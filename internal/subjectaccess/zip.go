package subjectaccess

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"signoff/internal/schooltime"
	"signoff/internal/spreadsheet"
)

// CopyFunc renders the signed copy of the record with reference ref to w;
// own says the copy is for the person who gave it (it may show their IP
// address and browser).
type CopyFunc func(w io.Writer, ref string, own bool) error

// FileName is the name the ZIP is downloaded as.
func (ex Export) FileName() string {
	name := strings.ToLower(ex.Person.GivenName + "-" + ex.Person.FamilyName)
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	return fmt.Sprintf("subject-access-%s-%s.zip", b.String(), ex.GeneratedAt.In(schooltime.London).Format("2006-01-02"))
}

// WriteZIP writes the export as a ZIP to w: summary.html, data.json, one
// CSV per kind of data, and copies/REFERENCE.pdf for each record. Copies
// are rendered one at a time, so memory stays bounded by one copy.
func WriteZIP(w io.Writer, ex Export, copies CopyFunc) error {
	zw := zip.NewWriter(w)
	mod := ex.GeneratedAt.In(schooltime.London)
	create := func(name string, method uint16) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: mod})
	}
	f, err := create("summary.html", zip.Deflate)
	if err != nil {
		return err
	}
	if err := summary.Execute(f, ex); err != nil {
		return fmt.Errorf("subjectaccess: summary: %w", err)
	}
	f, err = create("data.json", zip.Deflate)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		return fmt.Errorf("subjectaccess: json: %w", err)
	}
	for _, t := range ex.tables() {
		f, err := create(t.name, zip.Deflate)
		if err != nil {
			return err
		}
		if err := spreadsheet.WriteCSV(f, spreadsheet.Table{Header: t.header, Rows: t.rows}); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	for _, rec := range append(slices.Clone(ex.Records), ex.AboutThem...) {
		buf.Reset()
		if err := copies(&buf, rec.Reference, rec.Own); err != nil {
			return fmt.Errorf("subjectaccess: copy of %s: %w", rec.Reference, err)
		}
		f, err := create("copies/"+rec.Reference+".pdf", zip.Store)
		if err != nil {
			return err
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return zw.Close()
}

type table struct {
	name   string
	header []string
	rows   [][]string
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

// answerLines lists answers as "question: yes", by question.
func answerLines(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + m[k]
	}
	return lines
}

func answers(m map[string]string) string { return strings.Join(answerLines(m), "; ") }

func recordRows(recs []Record) [][]string {
	var out [][]string
	for _, r := range recs {
		out = append(out, []string{r.Reference, r.Form, fmt.Sprint(r.Version), r.ForChild, r.GivenBy, r.Part, answers(r.Answers), r.TypedName,
			r.Method, ts(r.SignedAt), r.IP, r.UserAgent, r.Supersedes, fmt.Sprint(r.Superseded), fmt.Sprint(r.HasScan)})
	}
	return out
}

var recordHeader = []string{"reference", "form", "version", "for_child", "given_by", "part", "answers", "typed_name", "method", "signed_at",
	"ip", "user_agent", "supersedes", "superseded", "has_paper_scan"}

func (ex Export) tables() []table {
	p := ex.Person
	ts := []table{
		{"person.csv", []string{"field", "value"}, [][]string{
			{"name", p.FullName()}, {"kind", p.Kind}, {"mis_id", p.MISID}, {"title", p.Title}, {"preferred_name", p.PreferredName},
			{"email", p.Email}, {"mobile", p.Mobile}, {"staff_role", p.StaffRole}, {"job_title", p.JobTitle}, {"year_group", p.YearGroup},
			{"reg_class", p.RegClass}, {"date_of_birth", tsp(p.DateOfBirth)}, {"started_on", tsp(p.StartedOn)}, {"left_at", tsp(p.LeftAt)}}},
		{"records.csv", recordHeader, recordRows(ex.Records)},
	}
	if len(ex.AboutThem) > 0 {
		ts = append(ts, table{"records-about-them.csv", recordHeader, recordRows(ex.AboutThem)})
	}
	t := table{name: "links.csv", header: []string{"name", "kind", "relationship", "parental_responsibility", "class"}}
	for _, l := range ex.Links {
		t.rows = append(t.rows, []string{l.Name, l.Kind, l.Relationship, fmt.Sprint(l.ParentalResponsibility), l.Class})
	}
	ts = append(ts, t)
	t = table{name: "accounts.csv", header: []string{"email", "display_name", "roles", "has_password", "created_at", "disabled_at"}}
	for _, a := range ex.Accounts {
		t.rows = append(t.rows, []string{a.Email, a.DisplayName, strings.Join(a.Roles, " "), fmt.Sprint(a.HasPassword), tsp(&a.CreatedAt), tsp(a.DisabledAt)})
	}
	ts = append(ts, t)
	t = table{name: "sign-ins.csv", header: []string{"at", "action", "method", "ip"}}
	for _, a := range ex.SignIns {
		t.rows = append(t.rows, []string{tsp(&a.At), a.Action, a.Method, a.IP})
	}
	for _, x := range ex.Sessions {
		t.rows = append(t.rows, []string{tsp(&x.CreatedAt), "session (held until " + tsp(&x.ExpiresAt) + ")", x.UserAgent, x.IP})
	}
	ts = append(ts, t)
	t = table{name: "activity.csv", header: []string{"at", "action", "subject", "ip"}}
	for _, a := range ex.Activity {
		t.rows = append(t.rows, []string{tsp(&a.At), a.Action, a.Subject, a.IP})
	}
	ts = append(ts, t)
	t = table{name: "links-issued.csv", header: []string{"purpose", "created_at", "expires_at", "used_at", "revoked_at"}}
	for _, l := range ex.AccessLinks {
		t.rows = append(t.rows, []string{l.Purpose, tsp(&l.CreatedAt), tsp(&l.ExpiresAt), tsp(l.UsedAt), tsp(l.RevokedAt)})
	}
	ts = append(ts, t)
	t = table{name: "emails.csv", header: []string{"to", "subject", "kind", "created_at", "sent_at", "body"}}
	for _, e := range ex.Emails {
		t.rows = append(t.rows, []string{e.To, e.Subject, e.Kind, tsp(&e.CreatedAt), tsp(e.SentAt), e.Body})
	}
	ts = append(ts, t)
	if len(ex.Decisions) > 0 {
		t = table{name: "policy-decisions.csv", header: []string{"policy", "version", "decision", "comment", "decided_at"}}
		for _, d := range ex.Decisions {
			t.rows = append(t.rows, []string{d.Policy, fmt.Sprint(d.Version), d.Decision, d.Comment, tsp(&d.DecidedAt)})
		}
		ts = append(ts, t)
	}
	t = table{name: "reminders.csv", header: []string{"form", "for_child", "sent_on", "origin"}}
	for _, r := range ex.Reminders {
		t.rows = append(t.rows, []string{r.Form, r.ForChild, r.SentOn.Format("2006-01-02"), r.Origin})
	}
	ts = append(ts, t)
	return ts
}

var summary = template.Must(template.New("summary").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return schooltime.DateTimeZone(t) },
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return schooltime.DateTimeZone(*t)
	},
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format("2 January 2006")
	},
	"answers":     answers,
	"answerLines": answerLines,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>What {{.School}} holds about {{.Person.FullName}}</title>
<style>
body { font-family: system-ui, sans-serif; line-height: 1.45; margin: 1rem auto; max-width: 60rem; padding: 0 1rem; color: #0b0c0c; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; font-size: 0.95rem; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
.nowrap { white-space: nowrap; }
th { background: #f3f2f1; }
.scroll { overflow-x: auto; }
</style>
</head>
<body>
<h1>What {{.School}} holds about {{.Person.FullName}}</h1>
<p>Made by Signoff on {{when .GeneratedAt}}, in answer to a subject access request. The same data is in
<code>data.json</code> and the CSV files beside this page; every signed copy is in <code>copies/</code>.</p>

<h2>The person record</h2>
<table>
<tr><th scope="row">Name</th><td>{{.Person.Title}} {{.Person.FullName}}{{with .Person.PreferredName}} (known as {{.}}){{end}}</td></tr>
<tr><th scope="row">Kind</th><td>{{.Person.Kind}}{{with .Person.StaffRole}}, {{.}}{{end}}{{with .Person.JobTitle}} ({{.}}){{end}}</td></tr>
{{with .Person.MISID}}<tr><th scope="row">MIS identifier</th><td>{{.}}</td></tr>{{end}}
{{with .Person.Email}}<tr><th scope="row">Email</th><td>{{.}}</td></tr>{{end}}
{{with .Person.Mobile}}<tr><th scope="row">Mobile</th><td>{{.}}</td></tr>{{end}}
{{with .Person.YearGroup}}<tr><th scope="row">Year group</th><td>{{.}}</td></tr>{{end}}
{{with .Person.RegClass}}<tr><th scope="row">Class</th><td>{{.}}</td></tr>{{end}}
{{with .Person.DateOfBirth}}<tr><th scope="row">Date of birth</th><td>{{date .}}</td></tr>{{end}}
{{with .Person.StartedOn}}<tr><th scope="row">Started</th><td>{{date .}}</td></tr>{{end}}
{{with .Person.LeftAt}}<tr><th scope="row">Left</th><td>{{date .}}</td></tr>{{end}}
</table>

{{if .Links}}<h2>Linked people</h2>
<table><tr><th scope="col">Name</th><th scope="col">Who</th><th scope="col">Relationship</th><th scope="col">Parental responsibility</th></tr>
{{range .Links}}<tr><td>{{.Name}}</td><td>{{if eq .Kind "pupil"}}Child{{with .Class}} ({{.}}){{end}}{{else}}Parent or carer{{end}}</td><td>{{.Relationship}}</td><td>{{if .ParentalResponsibility}}Yes{{else}}No{{end}}</td></tr>
{{end}}</table>{{end}}

<h2>Accounts</h2>
{{if .Accounts}}<table><tr><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Password set</th><th scope="col">Created</th><th scope="col">Closed</th></tr>
{{range .Accounts}}<tr><td>{{.Email}}</td><td>{{range .Roles}}{{.}} {{end}}</td><td>{{if .HasPassword}}Yes{{else}}No{{end}}</td><td>{{when .CreatedAt}}</td><td>{{whenp .DisabledAt}}</td></tr>
{{end}}</table>{{else}}<p>No account.</p>{{end}}

<h2>Signatures and consents given ({{len .Records}})</h2>
{{if .Records}}<div class="scroll"><table><tr><th scope="col">Reference</th><th scope="col">Form</th><th scope="col">For</th><th scope="col">Answers</th><th scope="col">How and when</th><th scope="col">Device</th></tr>
{{range .Records}}<tr><td class="nowrap">{{.Reference}}{{if .Superseded}}<br>(changed later){{end}}{{with .Supersedes}}<br>changes {{.}}{{end}}</td><td>{{.Form}}{{if .Version}} v{{.Version}}{{end}}</td><td>{{.ForChild}}</td><td>{{range answerLines .Answers}}{{.}}<br>{{end}}</td><td>{{.Method}}, {{when .SignedAt}}<br>typed: {{.TypedName}}</td><td>{{.IP}}<br>{{.UserAgent}}</td></tr>
{{end}}</table></div>{{else}}<p>None.</p>{{end}}

{{if .AboutThem}}<h2>Given for them by their parents or carers ({{len .AboutThem}})</h2>
<div class="scroll"><table><tr><th scope="col">Reference</th><th scope="col">Form</th><th scope="col">Given by</th><th scope="col">Answers</th><th scope="col">When</th></tr>
{{range .AboutThem}}<tr><td class="nowrap">{{.Reference}}{{if .Superseded}}<br>(changed later){{end}}</td><td>{{.Form}}</td><td>{{.GivenBy}}</td><td>{{range answerLines .Answers}}{{.}}<br>{{end}}</td><td>{{when .SignedAt}}</td></tr>
{{end}}</table></div>{{end}}

<h2>Sign-ins ({{len .SignIns}})</h2>
{{if .SignIns}}<table><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">How</th><th scope="col">IP address</th></tr>
{{range .SignIns}}<tr><td>{{when .At}}</td><td>{{.Action}}</td><td>{{.Method}}</td><td>{{.IP}}</td></tr>
{{end}}</table>{{else}}<p>None recorded.</p>{{end}}
{{if .Sessions}}<p>Sessions still held: {{len .Sessions}} (in sign-ins.csv).</p>{{end}}

<h2>What their account did ({{len .Activity}})</h2>
{{if .Activity}}<div class="scroll"><table><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">On</th><th scope="col">IP address</th></tr>
{{range .Activity}}<tr><td>{{when .At}}</td><td>{{.Action}}</td><td>{{.Subject}}</td><td>{{.IP}}</td></tr>
{{end}}</table></div>{{else}}<p>Nothing recorded.</p>{{end}}

<h2>Links sent to them ({{len .AccessLinks}})</h2>
{{if .AccessLinks}}<table><tr><th scope="col">Kind</th><th scope="col">Made</th><th scope="col">Works until</th><th scope="col">Stopped</th></tr>
{{range .AccessLinks}}<tr><td>{{.Purpose}}</td><td>{{when .CreatedAt}}</td><td>{{when .ExpiresAt}}</td><td>{{whenp .RevokedAt}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}

<h2>Emails sent to them ({{len .Emails}})</h2>
{{range .Emails}}<h3>{{.Subject}}</h3><p>To {{.To}}, queued {{when .CreatedAt}}{{with .SentAt}}, sent {{whenp .}}{{end}}</p><pre style="white-space: pre-wrap">{{.Body}}</pre>
{{else}}<p>None.</p>{{end}}

{{if .Reminders}}<h2>Reminders ({{len .Reminders}})</h2>
<table><tr><th scope="col">Form</th><th scope="col">For</th><th scope="col">Day</th><th scope="col">From</th></tr>
{{range .Reminders}}<tr><td>{{.Form}}</td><td>{{.ForChild}}</td><td>{{.SentOn.Format "2 January 2006"}}</td><td>{{.Origin}}</td></tr>
{{end}}</table>{{end}}

{{if .Decisions}}<h2>Decisions on policy revisions ({{len .Decisions}})</h2>
<table><tr><th scope="col">Policy</th><th scope="col">Version</th><th scope="col">Decision</th><th scope="col">Comment</th><th scope="col">When</th></tr>
{{range .Decisions}}<tr><td>{{.Policy}}</td><td>{{.Version}}</td><td>{{.Decision}}</td><td>{{.Comment}}</td><td>{{when .DecidedAt}}</td></tr>
{{end}}</table>{{end}}

{{if .LegalHolds}}<h2>Legal holds</h2>
<table><tr><th scope="col">Reason</th><th scope="col">Placed</th><th scope="col">Lifted</th></tr>
{{range .LegalHolds}}<tr><td>{{.Reason}}</td><td>{{when .PlacedAt}}</td><td>{{whenp .LiftedAt}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`))
