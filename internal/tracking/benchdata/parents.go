package benchdata

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/signing"
)

// parentForm is one of the parents' forms every school gets.
type parentForm struct {
	title   string
	signer  signing.Signer
	renewal signing.Renewal
	years   []people.YearGroup
	// withdrawn is the share of signed records later changed to "no".
	withdrawn float64
}

var parentFormList = []parentForm{
	{title: "Photo consent", signer: signing.OneParent, renewal: signing.UntilWithdrawn, withdrawn: 0.06},
	{title: "Trip to the coast", signer: signing.EachParent, renewal: signing.UntilWithdrawn, years: []people.YearGroup{3, 4}, withdrawn: 0.03},
	{title: "Sun cream", signer: signing.OneParent, renewal: signing.EachKeyStage, years: []people.YearGroup{0, 1, 2}},
}

// parentForms publishes the school's parents' forms (through consent, as
// the office does) and bulk-inserts their records: for each child in the
// audience, one parent's answers (both parents', each on their own, for a
// form each parent signs) in SignedShare of cases, some later withdrawn
// by a record that supersedes them, each sealed with its audit entry as
// consent writes them.
func parentForms(ctx context.Context, db *database.DB, rng *rand.Rand, cfg Config, school int64, ay int, published time.Time,
	nextRef func() string, res *Result) error {
	type child struct {
		id      int64
		year    people.YearGroup
		stage   int16 // signoff_key_stage of year (SQL is its one home)
		parents []int64
		names   []string
	}
	rows, err := db.Pool.Query(ctx, `SELECT c.id, c.year_group, signoff_key_stage(c.year_group), array_agg(g.parent_id ORDER BY g.priority, g.parent_id),
			array_agg(p.given_name || ' ' || p.family_name ORDER BY g.priority, g.parent_id)
		FROM people c JOIN guardianships g ON g.pupil_id = c.id AND g.parental_responsibility JOIN people p ON p.id = g.parent_id
		WHERE c.school_id = $1 AND c.kind = 'pupil' GROUP BY c.id ORDER BY c.id`, school)
	if err != nil {
		return err
	}
	children, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (child, error) {
		var c child
		var y int16
		err := r.Scan(&c.id, &y, &c.stage, &c.parents, &c.names)
		c.year = people.YearGroup(y)
		return c, err
	})
	if err != nil {
		return err
	}
	store := consent.NewStore(db)
	actor := audit.System("benchdata")
	for fi := range cfg.ParentForms {
		pf := parentFormList[fi%len(parentFormList)]
		f, err := store.Create(ctx, school, actor, consent.NewForm{Kind: signing.Consent, Title: pf.title, Signer: pf.signer, Renewal: pf.renewal,
			YearGroups: pf.years, Items: []consent.Item{{Label: pf.title + ": in school"}, {Label: pf.title + ": shared outside school"}}})
		if err != nil {
			return err
		}
		_, items, err := store.Form(ctx, school, f.ID)
		if err != nil {
			return err
		}
		type record struct {
			row   []any
			entry audit.Entry
			c     child
			k     int
			at    time.Time
			// withdraw: a later record, every answer "no", supersedes it.
			withdraw bool
		}
		var recs []record
		add := func(c child, k int, at time.Time, answers map[string]bool, supersedes int64) record {
			ref := nextRef()
			ans, _ := json.Marshal(answers)
			ks := int(c.stage)
			sf := signing.SealFields{SchoolID: school, FormID: f.ID, PersonID: c.parents[k], PupilID: c.id, VersionSHA256: f.TextSHA256,
				Statement: f.Statement, TypedName: c.names[k], Answers: ans, AcademicYear: ay, Method: signing.Web, IP: "192.0.2.40",
				UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)", Reference: ref, SupersedesID: supersedes, SignedAt: at,
				Part: "parent", KeyStage: &ks, Language: "en"}
			seal := sf.Seal()
			action := "consent.given"
			if supersedes != 0 {
				action = "consent.changed"
			}
			return record{
				row: []any{school, f.ID, c.parents[k], c.id, f.TextSHA256, f.Statement, c.names[k], ans, ay, "web", sf.IP, sf.UserAgent, ref,
					database.NullID(supersedes), at.Truncate(time.Microsecond), "parent", int16(ks), "en", seal},
				entry: audit.Entry{SchoolID: school, At: at, Actor: audit.Actor{Name: c.names[k], IP: sf.IP}, Action: action, Subject: "signature " + ref,
					Detail: map[string]string{"form": fmt.Sprint(f.ID), "pupil": fmt.Sprint(c.id), "parent": fmt.Sprint(c.parents[k]),
						"method": string(signing.Web), "seal": seal}},
				c: c, k: k, at: at,
			}
		}
		yes := map[string]bool{}
		no := map[string]bool{}
		for _, it := range items {
			yes[strconv.FormatInt(it.ID, 10)] = true
			no[strconv.FormatInt(it.ID, 10)] = false
		}
		for _, c := range children {
			if len(pf.years) > 0 && !slices.Contains(pf.years, c.year) {
				continue
			}
			signers := 1
			if pf.signer == signing.EachParent {
				signers = len(c.parents)
			}
			for k := range signers {
				res.Requests++
				if rng.Float64() >= cfg.SignedShare {
					continue
				}
				r := add(c, k, published.Add(time.Duration(rng.Int64N(int64(20*24*time.Hour)))), yes, 0)
				r.withdraw = rng.Float64() < pf.withdrawn
				recs = append(recs, r)
			}
		}
		cols := []string{"school_id", "form_id", "person_id", "pupil_id", "version_sha256", "statement", "typed_name", "answers", "academic_year",
			"method", "ip", "user_agent", "reference", "supersedes_id", "signed_at", "part", "key_stage", "language", "seal"}
		err = db.InTx(ctx, func(tx pgx.Tx) error {
			copyIn := func(rs []record) error {
				var rows [][]any
				for _, r := range rs {
					rows = append(rows, r.row)
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"signatures"}, cols, pgx.CopyFromRows(rows)); err != nil {
					return err
				}
				for _, r := range rs {
					if err := audit.Record(ctx, tx, r.entry); err != nil {
						return err
					}
				}
				res.Signatures += len(rs)
				return nil
			}
			if err := copyIn(recs); err != nil {
				return err
			}
			// Withdrawals: records superseding the first, every answer "no".
			var later []record
			for _, r := range recs {
				if !r.withdraw {
					continue
				}
				var id int64
				if err := tx.QueryRow(ctx, `SELECT id FROM signatures WHERE reference = $1`, r.row[12]).Scan(&id); err != nil {
					return err
				}
				w := add(r.c, r.k, r.at.Add(5*24*time.Hour), no, id)
				later = append(later, w)
				res.Withdrawals++
			}
			if len(later) > 0 {
				return copyIn(later)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
