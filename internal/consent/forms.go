// Package consent holds what parents and pupils sign: forms addressed to
// the parents of pupils in chosen year groups or classes, owed once per
// child by one parent with parental responsibility or by each of them;
// consent items answered yes or no, changed or withdrawn at any time as
// new records that supersede the old; the three-part home-school
// agreement (school, parent, child); signing in class witnessed by a
// teacher; paper forms recorded by the office with their scans; and what
// each child may do now (the most restrictive current answer wins).
package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/limits"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/signing"
)

// Item kinds.
const (
	ConsentItem = "consent"         // answered yes or no
	AckItem     = "acknowledgement" // must be ticked
)

// Item is one question of a consent form.
type Item struct {
	ID          int64
	Position    int
	Kind        string
	Label       string // "Photos of my child on the school website"
	Explanation string // what it means, in plain words
	Photo       bool   // a use of photographs: shown on class photo lists
}

// NewForm is what the office writes to ask parents for something.
type NewForm struct {
	Kind       signing.Kind // Consent or Agreement
	Title      string
	Intro      string
	YearGroups []people.YearGroup // empty: every year group
	Classes    []string           // empty: every class of those year groups
	Signer     signing.Signer     // OneParent or EachParent
	Renewal    signing.Renewal
	Items      []Item // consent forms
	// Agreement parts.
	SchoolPart, ParentPart, ChildPart string
	DueOn                             *time.Time
}

// Validate tidies and checks the input.
func (in *NewForm) Validate() error {
	var v apperr.Validation
	in.Title = strings.TrimSpace(in.Title)
	v.Check(in.Title != "", "title", "Enter a title parents will recognise, for example “Photo consent”")
	v.MaxLen("title", in.Title, limits.Title, "title")
	v.MaxLen("intro", in.Intro, limits.Part, "introduction")
	switch in.Kind {
	case signing.Consent:
		n := 0
		for i := range in.Items {
			it := &in.Items[i]
			it.Label = strings.TrimSpace(it.Label)
			it.Explanation = strings.TrimSpace(it.Explanation)
			if it.Label == "" {
				continue
			}
			if it.Kind != AckItem {
				it.Kind = ConsentItem
			}
			v.MaxLen("items", it.Label, limits.Label, "question "+fmt.Sprint(i+1))
			v.MaxLen("items", it.Explanation, limits.Note, "explanation of question "+fmt.Sprint(i+1))
			n++
		}
		in.Items = slices.DeleteFunc(in.Items, func(it Item) bool { return it.Label == "" })
		v.Check(n > 0, "items", "Add at least one question for parents to answer")
	case signing.Agreement:
		v.Check(strings.TrimSpace(in.SchoolPart) != "", "school_part", "Enter what the school commits to")
		v.Check(strings.TrimSpace(in.ParentPart) != "", "parent_part", "Enter what parents and carers commit to")
		v.Check(strings.TrimSpace(in.ChildPart) != "", "child_part", "Enter what the child commits to, in words a child understands")
		v.MaxLen("school_part", in.SchoolPart, limits.Part, "school's part")
		v.MaxLen("parent_part", in.ParentPart, limits.Part, "parent's part")
		v.MaxLen("child_part", in.ChildPart, limits.Part, "child's part")
	default:
		v.Add("kind", "Choose a consent form or a home-school agreement")
	}
	switch in.Signer {
	case signing.OneParent, signing.EachParent:
	default:
		v.Add("signer", "Choose who signs for each child")
	}
	switch in.Renewal {
	case signing.EachYear, signing.UntilWithdrawn, signing.EachKeyStage:
	default:
		v.Add("renewal", "Choose when parents are asked again")
	}
	if in.Kind == signing.Agreement && in.Renewal != signing.EachYear {
		v.Check(v.Has("renewal"), "renewal", "A home-school agreement is signed again each academic year")
	}
	for _, y := range in.YearGroups {
		if y < -2 || y > 14 {
			v.Add("year_groups", "Choose year groups from the list")
			break
		}
	}
	return v.Err()
}

// formDoc is the canonical content of a form, hashed and kept with every
// signature so that a copy can be checked against what was signed.
type formDoc struct {
	Title      string `json:"title"`
	Intro      string `json:"intro,omitempty"`
	Items      []Item `json:"items,omitempty"`
	SchoolPart string `json:"school_part,omitempty"`
	ParentPart string `json:"parent_part,omitempty"`
	ChildPart  string `json:"child_part,omitempty"`
}

// TextHash is the SHA-256 of a form's canonical content.
func TextHash(f signing.Form, items []Item) string {
	doc := formDoc{Title: f.Title, Intro: f.IntroMD, SchoolPart: f.SchoolPartMD, ParentPart: f.ParentPartMD, ChildPart: f.ChildPartMD}
	for _, it := range items {
		doc.Items = append(doc.Items, Item{Position: it.Position, Kind: it.Kind, Label: it.Label, Explanation: it.Explanation, Photo: it.Photo})
	}
	data, _ := json.Marshal(doc)
	return policies.Hash(string(data))
}

// MentionsPrivacyNotice reports whether a text refers to the school's
// privacy notice (a tick such as "I have read the school's privacy notice").
func MentionsPrivacyNotice(text string) bool {
	t := strings.ToLower(strings.Join(strings.Fields(text), " "))
	return strings.Contains(t, "privacy notice") || strings.Contains(t, "privacy policy")
}

// privacyField is the first field of a new form that refers to the
// privacy notice, or "".
func (in NewForm) privacyField() string {
	if MentionsPrivacyNotice(in.Intro) {
		return "intro"
	}
	for _, it := range in.Items {
		if MentionsPrivacyNotice(it.Label) || MentionsPrivacyNotice(it.Explanation) {
			return "items"
		}
	}
	for field, text := range map[string]string{"school_part": in.SchoolPart, "parent_part": in.ParentPart, "child_part": in.ChildPart} {
		if in.Kind == signing.Agreement && MentionsPrivacyNotice(text) {
			return field
		}
	}
	return ""
}

// FormMentionsPrivacyNotice reports whether a published form refers to
// the school's privacy notice, so its pages link to it.
func FormMentionsPrivacyNotice(f signing.Form, items []Item) bool {
	for _, t := range []string{f.IntroMD, f.SchoolPartMD, f.ParentPartMD, f.ChildPartMD} {
		if MentionsPrivacyNotice(t) {
			return true
		}
	}
	for _, it := range items {
		if MentionsPrivacyNotice(it.Label) || MentionsPrivacyNotice(it.Explanation) {
			return true
		}
	}
	return false
}

// Store reads and writes parents' forms and what they give.
type Store struct{ db *database.DB }

// NewStore returns a Store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Create publishes a form to the parents of the chosen pupils. Its text
// is frozen once anyone signs it.
func (s *Store) Create(ctx context.Context, schoolID int64, actor audit.Actor, in NewForm) (signing.Form, error) {
	if err := in.Validate(); err != nil {
		return signing.Form{}, err
	}
	now := s.db.Now()
	f := signing.Form{SchoolID: schoolID, Kind: in.Kind, Title: in.Title, Audience: signing.ParentsAudience, YearGroups: in.YearGroups,
		Classes: in.Classes, Signer: in.Signer, Renewal: in.Renewal, DueOn: in.DueOn, IntroMD: policies.NormaliseText(in.Intro), CreatedAt: now}
	if strings.TrimSpace(in.Intro) == "" {
		f.IntroMD = ""
	}
	if in.Kind == signing.Agreement {
		f.SchoolPartMD = policies.NormaliseText(in.SchoolPart)
		f.ParentPartMD = policies.NormaliseText(in.ParentPart)
		f.ChildPartMD = policies.NormaliseText(in.ChildPart)
	}
	f.Statement = "I confirm my answers for my child."
	if in.Kind == signing.Agreement {
		f.Statement = "I agree to the parent's part of this agreement."
	}
	items := make([]Item, len(in.Items))
	for i, it := range in.Items {
		it.Position = i + 1
		items[i] = it
	}
	f.TextSHA256 = TextHash(f, items)
	years := make([]int16, len(f.YearGroups))
	for i, y := range f.YearGroups {
		years[i] = int16(y)
	}
	classes := f.Classes
	if classes == nil {
		classes = []string{}
	}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		// A form that asks about the privacy notice links to it: the
		// school must have one.
		if field := in.privacyField(); field != "" {
			var notice string
			if err := tx.QueryRow(ctx, `SELECT privacy_notice_url FROM schools WHERE id = $1`, schoolID).Scan(&notice); err != nil {
				return fmt.Errorf("consent: school's privacy notice: %w", err)
			}
			if notice == "" {
				var v apperr.Validation
				v.Add(field, "This form refers to the school's privacy notice, which parents must be able to read: add its web address under Settings first")
				return v.Err()
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO forms (school_id, kind, title, statement, renewal, due_on, created_by, created_at,
				audience, audience_year_groups, audience_classes, signer, intro_md, school_part_md, parent_part_md, child_part_md, text_sha256)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'parents', $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
			schoolID, f.Kind, f.Title, f.Statement, f.Renewal, f.DueOn, database.NullID(actor.AccountID), now,
			years, classes, f.Signer, f.IntroMD, f.SchoolPartMD, f.ParentPartMD, f.ChildPartMD, f.TextSHA256).Scan(&f.ID)
		if err != nil {
			return fmt.Errorf("consent: create form: %w", err)
		}
		for _, it := range items {
			if _, err := tx.Exec(ctx, `INSERT INTO form_items (school_id, form_id, position, kind, label, explanation, photo)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, schoolID, f.ID, it.Position, it.Kind, it.Label, it.Explanation, it.Photo); err != nil {
				return fmt.Errorf("consent: create item: %w", err)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "form.published",
			Subject: fmt.Sprintf("form %d", f.ID), Detail: map[string]string{"title": f.Title, "kind": string(f.Kind), "audience": "parents",
				"sha256": f.TextSHA256}})
	})
	if err != nil {
		return signing.Form{}, err
	}
	return f, nil
}

// Form returns a parents' form of the school with its items.
func (s *Store) Form(ctx context.Context, schoolID, formID int64) (signing.Form, []Item, error) {
	f, err := signing.ScanForm(s.db.Pool.QueryRow(ctx, `SELECT `+signing.FormColumns+` FROM forms f
		WHERE f.school_id = $1 AND f.id = $2 AND f.audience = 'parents'`, schoolID, formID))
	if errors.Is(err, pgx.ErrNoRows) {
		return signing.Form{}, nil, apperr.New(apperr.NotFound, "There is no such form")
	}
	if err != nil {
		return signing.Form{}, nil, fmt.Errorf("consent: form: %w", err)
	}
	items, err := s.items(ctx, formID)
	return f, items, err
}

// itemsOf is the questions of several forms, by form.
func (s *Store) itemsOf(ctx context.Context, formIDs []int64) (map[int64][]Item, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+itemsOfColumns+` FROM form_items WHERE form_id = ANY ($1) ORDER BY form_id, position`, formIDs)
	if err != nil {
		return nil, fmt.Errorf("consent: items: %w", err)
	}
	return collectItemsOf(rows)
}

const itemsOfColumns = `form_id, id, position, kind, label, explanation, photo`

// collectItemsOf reads itemsOfColumns' rows, by form.
func collectItemsOf(rows pgx.Rows) (map[int64][]Item, error) {
	out := map[int64][]Item{}
	var form int64
	var it Item
	_, err := pgx.ForEachRow(rows, []any{&form, &it.ID, &it.Position, &it.Kind, &it.Label, &it.Explanation, &it.Photo}, func() error {
		out[form] = append(out[form], it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consent: items: %w", err)
	}
	return out, nil
}

func (s *Store) items(ctx context.Context, formID int64) ([]Item, error) {
	return itemsOn(ctx, s.db.Pool, formID)
}

// itemsOn reads a form's questions, in order, through q (the pool, or the
// transaction that reads the form).
func itemsOn(ctx context.Context, q database.Querier, formID int64) ([]Item, error) {
	rows, err := q.Query(ctx, `SELECT id, position, kind, label, explanation, photo FROM form_items WHERE form_id = $1 ORDER BY position`, formID)
	if err != nil {
		return nil, fmt.Errorf("consent: items: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
		var it Item
		return it, r.Scan(&it.ID, &it.Position, &it.Kind, &it.Label, &it.Explanation, &it.Photo)
	})
	if err != nil {
		return nil, fmt.Errorf("consent: items: %w", err)
	}
	return out, nil
}

// Forms returns the school's open parents' forms, newest first.
func (s *Store) Forms(ctx context.Context, schoolID int64) ([]signing.Form, error) {
	rows, err := s.db.Pool.Query(ctx, formsSQL, schoolID)
	if err != nil {
		return nil, fmt.Errorf("consent: forms: %w", err)
	}
	return collectForms(rows)
}

// openForms is the school's ($1) open parents' forms.
const openForms = `f.school_id = $1 AND f.audience = 'parents' AND f.closed_at IS NULL`

const formsSQL = `SELECT ` + signing.FormColumns + ` FROM forms f WHERE ` + openForms + ` ORDER BY f.created_at DESC, f.id DESC`

func collectForms(rows pgx.Rows) ([]signing.Form, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (signing.Form, error) { return signing.ScanForm(r) })
	if err != nil {
		return nil, fmt.Errorf("consent: forms: %w", err)
	}
	return out, nil
}

// ForPupil reports whether a form is addressed to the parents of pupil p.
func ForPupil(f signing.Form, p people.Person) bool {
	if f.Audience != signing.ParentsAudience || f.ClosedAt != nil || p.Kind != people.Pupil || p.LeftAt != nil || p.YearGroup == nil {
		return false
	}
	if len(f.YearGroups) > 0 && !slices.Contains(f.YearGroups, *p.YearGroup) {
		return false
	}
	if len(f.Classes) > 0 && !slices.Contains(f.Classes, p.RegClass) {
		return false
	}
	return true
}

// Close stops a parents' form asking anyone: it leaves the parents'
// pages and the class lists, and its records stay. A form whose wording
// must change is closed and a new one created.
func (s *Store) Close(ctx context.Context, schoolID, formID int64, actor audit.Actor) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var title string
		err := tx.QueryRow(ctx, `UPDATE forms SET closed_at = $3 WHERE school_id = $1 AND id = $2 AND audience = 'parents' AND closed_at IS NULL
			RETURNING title`, schoolID, formID, now).Scan(&title)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such open form")
		}
		if err != nil {
			return fmt.Errorf("consent: close: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "form.closed",
			Subject: fmt.Sprintf("form %d", formID), Detail: map[string]string{"title": title}})
	})
}
