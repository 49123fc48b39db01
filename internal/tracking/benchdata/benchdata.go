// Package benchdata generates a trust of schools for the benchmark (and,
// much smaller, for tests): schools, staff with accounts, pupils, parents
// and carers with their links, published policies with staff forms, and
// signatures spread over the last month, bulk-inserted with COPY.
package benchdata

import (
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/policies"
	"signoff/internal/schooltime"
	"signoff/internal/signing"
)

// Config sizes the trust.
type Config struct {
	Schools        int
	StaffPerSchool int
	PupilsPerSch   int
	ParentsPerSch  int
	FormsPerSchool int
	SignedShare    float64 // share of requests already signed, 0 to 1
	// ParentForms is how many parents' consent forms each school has: in
	// turn photo consent (all year groups, one parent signs, some
	// withdrawn later), a trip (two year groups, each parent signs), sun
	// cream (the youngest three year groups, renewed each key stage).
	ParentForms int
	// BigFormSigned, when > 0, adds a school with this many staff who have
	// all signed one form (the ZIP benchmark's form).
	BigFormSigned int
	// Large, when it has staff, adds a school of that size (in no trust)
	// with the same forms: issue 15's large school.
	Large    Size
	Password string
	Seed     uint64
}

// Size is one school's people.
type Size struct{ Staff, Pupils, Parents int }

// Trust is the benchmark's trust of 20 schools: 2,000 staff, 8,000
// pupils, 14,000 parents (24,000 people), 10 staff forms and 3 parents'
// forms each, about two thirds signed; and the large school of issue 15
// (46 staff, 1,260 pupils, 2,241 parents) on its own.
var Trust = Config{Schools: 20, StaffPerSchool: 100, PupilsPerSch: 400, ParentsPerSch: 700, FormsPerSchool: 10, ParentForms: 3, SignedShare: 0.65,
	BigFormSigned: 1000, Large: Size{Staff: 46, Pupils: 1260, Parents: 2241}, Password: "benchmark-password", Seed: 1}

// Result says what was made.
type Result struct {
	TrustID      int64
	SchoolIDs    []int64
	BigSchoolID  int64
	BigFormID    int64
	LargeID      int64            // the large school (0 without Config.Large)
	AdminEmails  map[int64]string // school → its admin's email
	StaffEmails  []string
	People       int
	Signatures   int
	Requests     int
	Withdrawals  int // consent records later changed to "no" (each counted twice in Signatures: given, then withdrawn)
	GeneratedIn  time.Duration
	PasswordHash string
}

var roles = []string{"teacher", "teaching_assistant", "support", "governor", "volunteer", "contractor"}
var roleWeights = []int{45, 25, 18, 6, 4, 2}

var given = []string{"Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Freya", "Leo", "Zoë", "Mohammed", "Aisha", "Chloé", "Łukasz", "Siobhan", "Kwame", "Priya", "Tomasz", "Niamh"}
var family = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan", "O'Brien", "Nowak", "Okafor", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Green"}

const policyBody = `# %s

## Purpose

This policy explains what the school expects of everyone who works here, and why. It applies to all staff, governors, volunteers and contractors.

## What you must do

1. Read this policy and ask your line manager if anything is unclear.
2. Follow it at all times while working for the school, on and off site.
3. Report any concern to the designated lead at once.

## Data and devices

- Keep personal data about pupils and families secure and confidential.
- Lock your screen when you leave it; never share your password.
- Use only school systems for school business.

| Who | Responsibility |
| --- | --- |
| Headteacher | Owns this policy and reviews it every year |
| Governors | Approve it and check it is followed |
| All staff | Read, sign and follow it |

## Review

This policy is reviewed every year by the governing board.
`

// longPolicyBody is a staff policy of realistic length (a data protection
// policy, written for the bench): its signed copy is five pages, the copy
// issue 15's goal is about. Each normal school's second policy has it; the
// others keep the short policyBody.
//
//go:embed content/data-protection.md
var longPolicyBody string

// LongPolicyTitle is the title of the policy whose text is longPolicyBody.
const LongPolicyTitle = "Policy 02: Data protection"

// Generate makes the trust in db (which must be migrated and may hold
// other schools). It is deterministic for a seed.
func Generate(ctx context.Context, db *database.DB, cfg Config) (Result, error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))
	res := Result{AdminEmails: map[int64]string{}}
	hash, err := auth.HashPassword(cfg.Password)
	if err != nil {
		return res, err
	}
	res.PasswordHash = hash
	now := time.Now().UTC()
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO trusts (name, slug) VALUES ('Benchmark Learning Trust', 'benchmark') RETURNING id`).Scan(&res.TrustID); err != nil {
			return err
		}
		n := cfg.Schools
		if cfg.BigFormSigned > 0 {
			n++
		}
		for i := range n {
			var id int64
			name := fmt.Sprintf("Bench School %02d", i+1)
			if i == cfg.Schools {
				name = "Bench ZIP School"
			}
			if err := tx.QueryRow(ctx, `INSERT INTO schools (trust_id, slug, name) VALUES ($1, $2, $3) RETURNING id`,
				res.TrustID, fmt.Sprintf("bench-%02d-%d", i+1, cfg.Seed), name).Scan(&id); err != nil {
				return err
			}
			if i == cfg.Schools {
				res.BigSchoolID = id
			} else {
				res.SchoolIDs = append(res.SchoolIDs, id)
			}
		}
		if cfg.Large.Staff > 0 {
			return tx.QueryRow(ctx, `INSERT INTO schools (slug, name) VALUES ($1, 'Bench Large School') RETURNING id`,
				fmt.Sprintf("bench-large-%d", cfg.Seed)).Scan(&res.LargeID)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("benchdata: schools: %w", err)
	}
	ay := schooltime.AcademicYear(now)
	refN := 0
	nextRef := func() string {
		refN++
		const alpha = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
		v := uint64(refN)*2654435761 + cfg.Seed<<40
		b := make([]byte, 12)
		for i := 11; i >= 0; i-- {
			b[i] = alpha[v%32]
			v /= 32
		}
		return "SG-" + string(b[0:4]) + "-" + string(b[4:8]) + "-" + string(b[8:12])
	}

	published := now.Add(-30 * 24 * time.Hour)
	all := append([]int64{}, res.SchoolIDs...)
	if res.BigSchoolID != 0 {
		all = append(all, res.BigSchoolID)
	}
	if res.LargeID != 0 {
		all = append(all, res.LargeID)
	}
	for si, school := range all {
		big := school == res.BigSchoolID
		staffN, pupilsN, parentsN, formsN := cfg.StaffPerSchool, cfg.PupilsPerSch, cfg.ParentsPerSch, cfg.FormsPerSchool
		if big {
			staffN, pupilsN, parentsN, formsN = cfg.BigFormSigned, 0, 0, 1
		}
		if school == res.LargeID {
			staffN, pupilsN, parentsN = cfg.Large.Staff, cfg.Large.Pupils, cfg.Large.Parents
		}
		err := db.InTx(ctx, func(tx pgx.Tx) error {
			// People: staff, pupils, parents.
			var rows [][]any
			staffRole := make([]string, staffN)
			for i := range staffN {
				r := pick(rng, roleWeights)
				if i == 0 || big {
					r = 0
				}
				staffRole[i] = roles[r]
				g, f := given[rng.IntN(len(given))], family[rng.IntN(len(family))]
				email := fmt.Sprintf("s%d.%d.%s@bench%d.example.sch.uk", si, i, strings.ToLower(strings.NewReplacer("'", "", "ł", "l", "Ł", "l").Replace(f)), cfg.Seed)
				rows = append(rows, []any{school, "staff", fmt.Sprintf("ST%05d", i), g, f, email, roles[r], nil, nil})
			}
			classes := []string{"A", "B"}
			for i := range pupilsN {
				yg := int16(i % 7)
				rows = append(rows, []any{school, "pupil", fmt.Sprintf("P%07d%02d", i, si), given[rng.IntN(len(given))], family[rng.IntN(len(family))], nil, nil,
					yg, fmt.Sprintf("%d%s", yg, classes[i%2])})
			}
			for i := range parentsN {
				rows = append(rows, []any{school, "parent", nil, given[rng.IntN(len(given))], family[rng.IntN(len(family))],
					fmt.Sprintf("parent%d.%d@bench%d.example.org", si, i, cfg.Seed), nil, nil, nil})
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"people"},
				[]string{"school_id", "kind", "mis_id", "given_name", "family_name", "email", "staff_role", "year_group", "reg_class"},
				pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("people: %w", err)
			}
			res.People += len(rows)
			type person struct {
				id    int64
				kind  string
				role  string
				email string
				name  string
			}
			prow, err := tx.Query(ctx, `SELECT id, kind, coalesce(staff_role, ''), coalesce(email, ''), given_name || ' ' || family_name FROM people WHERE school_id = $1 ORDER BY id`, school)
			if err != nil {
				return err
			}
			ppl, err := pgx.CollectRows(prow, func(r pgx.CollectableRow) (person, error) {
				var p person
				err := r.Scan(&p.id, &p.kind, &p.role, &p.email, &p.name)
				return p, err
			})
			if err != nil {
				return err
			}
			var staff, pupils, parents []person
			for _, p := range ppl {
				switch p.kind {
				case "staff":
					staff = append(staff, p)
				case "pupil":
					pupils = append(pupils, p)
				default:
					parents = append(parents, p)
				}
			}
			// Guardianships: each pupil one or two parents (siblings share).
			var gs [][]any
			seen := map[[2]int64]bool{}
			for i, pu := range pupils {
				if len(parents) == 0 {
					break
				}
				for k := range 2 {
					pa := parents[(i*7/4+k*len(parents)/2)%len(parents)]
					key := [2]int64{pa.id, pu.id}
					if seen[key] {
						continue
					}
					seen[key] = true
					gs = append(gs, []any{school, pa.id, pu.id, "Parent", true})
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"guardianships"}, []string{"school_id", "parent_id", "pupil_id", "relationship", "parental_responsibility"}, pgx.CopyFromRows(gs)); err != nil {
				return fmt.Errorf("guardianships: %w", err)
			}
			// Accounts: every member of staff; the first is also the admin.
			var acc [][]any
			for i, p := range staff {
				rolesArr := []string{"staff"}
				if i == 0 {
					rolesArr = []string{"staff", "admin"}
					res.AdminEmails[school] = p.email
				} else if !big {
					res.StaffEmails = append(res.StaffEmails, p.email)
				}
				acc = append(acc, []any{school, p.email, p.name, hash, rolesArr})
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"school_id", "email", "display_name", "password_hash", "roles"}, pgx.CopyFromRows(acc)); err != nil {
				return fmt.Errorf("accounts: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE people p SET account_id = a.id FROM accounts a WHERE a.email = p.email AND p.school_id = $1 AND p.kind = 'staff'`, school); err != nil {
				return err
			}
			// Policies, versions, forms and signatures.
			var sigs [][]any
			var entries []audit.Entry
			for fi := range formsN {
				title := fmt.Sprintf("Policy %02d: %s", fi+1, []string{"IT acceptable use", "Data protection", "Safeguarding", "Code of conduct", "Health and safety",
					"Whistleblowing", "Online safety", "Lone working", "Social media", "Confidentiality"}[fi%10])
				if big {
					title = "Staff code of conduct (all staff)"
				}
				body := fmt.Sprintf(policyBody, title)
				if title == LongPolicyTitle {
					body = fmt.Sprintf(longPolicyBody, title)
				}
				var policyID, versionID, formID int64
				if err := tx.QueryRow(ctx, `INSERT INTO policies (school_id, title) VALUES ($1, $2) RETURNING id`, school, title).Scan(&policyID); err != nil {
					return err
				}
				sha := policies.Hash(body)
				if err := tx.QueryRow(ctx, `INSERT INTO policy_versions (school_id, policy_id, number, body_md, sha256, status, published_at, created_at)
					VALUES ($1, $2, 1, $3, $4, 'published', $5, $5) RETURNING id`, school, policyID, body, sha, published).Scan(&versionID); err != nil {
					return err
				}
				aud := []string{"teacher", "teaching_assistant", "support"}
				if fi%3 == 0 {
					aud = append(aud, "governor", "volunteer", "contractor")
				}
				if big {
					aud = []string{"teacher"}
				}
				statement := "I have read and understood the " + title + " and I will comply with it."
				if err := tx.QueryRow(ctx, `INSERT INTO forms (school_id, policy_id, kind, title, statement, audience_staff_roles, renewal, created_at)
					VALUES ($1, $2, 'acknowledgement', $3, $4, $5, 'each_version', $6) RETURNING id`, school, policyID, title, statement, aud, published).Scan(&formID); err != nil {
					return err
				}
				if big {
					res.BigFormID = formID
				}
				for i, p := range staff {
					if !contains(aud, staffRole[i]) {
						continue
					}
					res.Requests++
					if !big && rng.Float64() >= cfg.SignedShare {
						continue
					}
					at := published.Add(time.Duration(rng.Int64N(int64(29 * 24 * time.Hour))))
					ip, ua, ref := "192.0.2."+fmt.Sprint(1+i%250), "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36", nextRef()
					seal := signing.SealFields{SchoolID: school, FormID: formID, PersonID: p.id, VersionID: versionID, VersionSHA256: sha,
						Statement: statement, TypedName: p.name, Answers: []byte("{}"), AcademicYear: ay, Method: signing.Web, IP: ip,
						UserAgent: ua, Reference: ref, SignedAt: at, Language: "en"}.Seal()
					sigs = append(sigs, []any{school, formID, p.id, versionID, sha, statement, p.name, ay, "web", ip, ua, ref, at.Truncate(time.Microsecond), seal})
					entries = append(entries, audit.Entry{SchoolID: school, At: at, Actor: audit.Actor{Name: p.name, IP: ip}, Action: "signature.created",
						Subject: "signature " + ref, Detail: map[string]string{"form": fmt.Sprint(formID), "person": fmt.Sprint(p.id),
							"version": "1", "sha256": sha, "method": string(signing.Web), "seal": seal}})
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"signatures"}, []string{"school_id", "form_id", "person_id", "version_id", "version_sha256", "statement",
				"typed_name", "academic_year", "method", "ip", "user_agent", "reference", "signed_at", "seal"}, pgx.CopyFromRows(sigs)); err != nil {
				return fmt.Errorf("signatures: %w", err)
			}
			// Each signature's audit entry carries its seal, as signing.Sign
			// writes it, so signed copies of the generated records verify.
			for _, e := range entries {
				if err := audit.Record(ctx, tx, e); err != nil {
					return fmt.Errorf("signatures: %w", err)
				}
			}
			res.Signatures += len(sigs)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("benchdata: school %d: %w", school, err)
		}
		if !big && cfg.ParentForms > 0 {
			if err := parentForms(ctx, db, rng, cfg, school, ay, published, nextRef, &res); err != nil {
				return res, fmt.Errorf("benchdata: school %d: parents' forms: %w", school, err)
			}
		}
	}
	// As autovacuum would leave it (visibility map set, statistics read).
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return res, err
	}
	res.GeneratedIn = time.Since(start)
	return res, nil
}

func pick(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Describe says in one sentence what was made.
func (r Result) Describe(cfg Config) string {
	n := len(r.SchoolIDs)
	large := ""
	if r.LargeID != 0 {
		large = fmt.Sprintf("; the large school on its own: %d staff, %d pupils, %d parents and carers, with the same forms", cfg.Large.Staff, cfg.Large.Pupils, cfg.Large.Parents)
	}
	return fmt.Sprintf("a trust of %d schools, %d people (%d staff, %d pupils, %d parents and carers), each school with %d staff forms and %d parents' forms (photo consent for all, one parent; a trip for two year groups, each parent; sun cream for three, each key stage; some consents withdrawn)%s; "+
		"in all %d requests, %d signatures and consent records (%d withdrawals), plus a ZIP school of %d staff who all signed one form; generated in %s",
		n, n*(cfg.StaffPerSchool+cfg.PupilsPerSch+cfg.ParentsPerSch), n*cfg.StaffPerSchool, n*cfg.PupilsPerSch, n*cfg.ParentsPerSch,
		cfg.FormsPerSchool, cfg.ParentForms, large, r.Requests-cfg.BigFormSigned, r.Signatures-cfg.BigFormSigned, r.Withdrawals, cfg.BigFormSigned, r.GeneratedIn.Round(time.Millisecond))
}
