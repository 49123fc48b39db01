package evidence

import (
	"context"
	"fmt"
	"sort"

	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/policies"
	"signoff/internal/signkey"
)

// Problem is one thing that disagrees, named.
type Problem struct {
	SchoolID int64
	What     string // "signature SG-…", "audit entry 123", "policy version 7", "anchor 4"
	Reason   string
}

func (p Problem) String() string {
	return fmt.Sprintf("school %d: %s: %s", p.SchoolID, p.What, p.Reason)
}

// Report is what CheckAll found.
type Report struct {
	Chains   int // schools with an audit chain
	Entries  int // audit entries walked
	Records  int // signatures and consent records
	Sealed   int // of which sealed and intact
	Before   int // made before seals existed
	Erased   int // personal fields erased, seal kept
	Texts    int // published policy texts and parents' forms checked
	Anchors  AnchorReport
	Problems []Problem
}

// OK is true when nothing disagrees.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// CheckAll checks every audit chain, every record's seal (and that its
// audit entry carries the same seal), every published text's hash, each
// record's text hash against the version it names, and the anchors
// against the chains (see CheckAnchors). It reads only; every problem is
// named.
func CheckAll(ctx context.Context, db *database.DB, trusted *signkey.Key) (Report, error) {
	var rep Report
	broken, chains, err := audit.Walk(ctx, db)
	if err != nil {
		return rep, err
	}
	rep.Chains = len(chains)
	for _, c := range chains {
		rep.Entries += c.Entries
	}
	for _, b := range broken {
		rep.Problems = append(rep.Problems, Problem{b.SchoolID, fmt.Sprintf("audit entry %d", b.ID), b.Reason})
	}

	// Every record's seal.
	rows, err := db.Pool.Query(ctx, sealQuery+` ORDER BY s.id`)
	if err != nil {
		return rep, fmt.Errorf("evidence: check seals: %w", err)
	}
	for rows.Next() {
		x, err := scanSealRow(rows)
		if err != nil {
			rows.Close()
			return rep, fmt.Errorf("evidence: check seals: %w", err)
		}
		rep.Records++
		switch st := x.state(); st {
		case SealIntact:
			rep.Sealed++
		case SealBefore:
			rep.Before++
		case SealErased:
			rep.Erased++
		default:
			reason := st.Reason()
			if x.Seal != "" && x.AuditSeal == "" {
				reason = "no audit entry records it (the entries that did were removed)"
			}
			rep.Problems = append(rep.Problems, Problem{x.SchoolID, "signature " + x.Reference, reason})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("evidence: check seals: %w", err)
	}

	// Published policy texts, and each record's text hash against its version.
	rows, err = db.Pool.Query(ctx, `SELECT school_id, id, policy_id, number, body_md, sha256 FROM policy_versions
		WHERE status IN ('published', 'superseded') ORDER BY id`)
	if err != nil {
		return rep, fmt.Errorf("evidence: check texts: %w", err)
	}
	for rows.Next() {
		var school, id, policy int64
		var number int
		var body, sha string
		if err := rows.Scan(&school, &id, &policy, &number, &body, &sha); err != nil {
			rows.Close()
			return rep, fmt.Errorf("evidence: check texts: %w", err)
		}
		rep.Texts++
		if policies.Hash(body) != sha {
			rep.Problems = append(rep.Problems, Problem{school, fmt.Sprintf("policy %d version %d", policy, number),
				"its text no longer hashes to the SHA-256 recorded when it was published"})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("evidence: check texts: %w", err)
	}
	mismatch, err := db.Pool.Query(ctx, `SELECT s.school_id, s.reference FROM signatures s
		LEFT JOIN policy_versions v ON v.id = s.version_id
		JOIN forms f ON f.id = s.form_id
		WHERE s.version_sha256 IS DISTINCT FROM coalesce(v.sha256, f.text_sha256) ORDER BY s.id`)
	if err != nil {
		return rep, fmt.Errorf("evidence: check record texts: %w", err)
	}
	for mismatch.Next() {
		var school int64
		var ref string
		if err := mismatch.Scan(&school, &ref); err != nil {
			mismatch.Close()
			return rep, err
		}
		rep.Problems = append(rep.Problems, Problem{school, "signature " + ref,
			"the text SHA-256 it records is not the SHA-256 of the version or form it names"})
	}
	mismatch.Close()
	forms, err := db.Pool.Query(ctx, `SELECT id, school_id FROM forms WHERE text_sha256 IS NOT NULL AND audience = 'parents' ORDER BY id`)
	if err != nil {
		return rep, fmt.Errorf("evidence: check forms: %w", err)
	}
	type form struct{ id, school int64 }
	var fs []form
	for forms.Next() {
		var f form
		if err := forms.Scan(&f.id, &f.school); err != nil {
			forms.Close()
			return rep, err
		}
		fs = append(fs, f)
	}
	forms.Close()
	cs := consent.NewStore(db)
	for _, f := range fs {
		form, items, err := cs.FormOf(ctx, f.id)
		if err != nil {
			return rep, fmt.Errorf("evidence: check form %d: %w", f.id, err)
		}
		rep.Texts++
		if consent.TextHash(form, items) != form.TextSHA256 {
			rep.Problems = append(rep.Problems, Problem{f.school, fmt.Sprintf("form %d (%s)", f.id, form.Title),
				"its text and questions no longer hash to the SHA-256 recorded when it was published"})
		}
	}
	rep.Anchors, err = CheckAnchors(ctx, db, chains, trusted)
	if err != nil {
		return rep, err
	}
	rep.Problems = append(rep.Problems, rep.Anchors.Problems...)
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].SchoolID < rep.Problems[j].SchoolID })
	return rep, nil
}
