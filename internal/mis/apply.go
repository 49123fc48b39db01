package mis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/people"
)

// apply writes the plan inside tx: staff, then pupils, then contacts.
func (p *plan) apply(ctx context.Context, tx pgx.Tx, now time.Time) error {
	if p.staff != nil {
		if err := p.applyStaff(ctx, tx, now); err != nil {
			return err
		}
	}
	if p.pupils != nil {
		if err := p.applyPupils(ctx, tx, now); err != nil {
			return err
		}
	}
	if p.contacts != nil {
		if err := p.applyContacts(ctx, tx, now); err != nil {
			return err
		}
	}
	return nil
}

// personColumns holds people as columns, for one set-based statement
// over unnest: thousands of pupils and parents are written in a few
// round trips.
type personColumns struct {
	id                                                      []int64
	misID, title, given, family, email, role, job, pref, rc []string
	mobile                                                  []string
	started, dob                                            []*time.Time
	year                                                    []*int16
}

func (c *personColumns) add(p *people.Person) {
	c.id = append(c.id, p.ID)
	c.misID = append(c.misID, p.MISID)
	c.title = append(c.title, p.Title)
	c.given = append(c.given, p.GivenName)
	c.family = append(c.family, p.FamilyName)
	c.email = append(c.email, p.Email)
	c.role = append(c.role, string(p.StaffRole))
	c.job = append(c.job, p.JobTitle)
	c.started = append(c.started, p.StartedOn)
	c.pref = append(c.pref, p.PreferredName)
	var y *int16
	if p.YearGroup != nil {
		v := int16(*p.YearGroup)
		y = &v
	}
	c.year = append(c.year, y)
	c.rc = append(c.rc, p.RegClass)
	c.dob = append(c.dob, p.DateOfBirth)
	c.mobile = append(c.mobile, p.Mobile)
}

const unnestPeople = `unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
	$11::date[], $12::text[], $13::smallint[], $14::text[], $15::date[], $16::text[])
	AS u(id, mis_id, title, given_name, family_name, email, staff_role, job_title, started_on, preferred_name, year_group,
	     reg_class, date_of_birth, mobile)`

func (c *personColumns) args(schoolID int64, kind people.Kind, now time.Time) []any {
	return []any{schoolID, now, c.id, c.misID, c.title, c.given, c.family, c.email, c.role, c.job, c.started, c.pref, c.year,
		c.rc, c.dob, c.mobile, string(kind)}
}

// insertPeople inserts the people of one kind, giving each its ID:
// the IDs are drawn from the identity sequence first, so that they are
// known without relying on the order RETURNING gives rows back.
func insertPeople(ctx context.Context, tx pgx.Tx, schoolID int64, kind people.Kind, ps []*people.Person, now time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('people', 'id')) FROM generate_series(1, $1)`, len(ps))
	if err != nil {
		return fmt.Errorf("mis: new %s ids: %w", kind, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != len(ps) {
		return fmt.Errorf("mis: new %s ids: %d for %d people: %v", kind, len(ids), len(ps), err)
	}
	var c personColumns
	for i, p := range ps {
		p.ID = ids[i]
		c.add(p)
	}
	_, err = tx.Exec(ctx, `INSERT INTO people (id, school_id, kind, mis_id, title, given_name, family_name, email, staff_role, job_title,
			started_on, preferred_name, year_group, reg_class, date_of_birth, mobile, created_at, updated_at)
		OVERRIDING SYSTEM VALUE
		SELECT u.id, $1, $17, nullif(u.mis_id, ''), u.title, u.given_name, u.family_name, nullif(u.email, ''), nullif(u.staff_role, ''),
			u.job_title, u.started_on, u.preferred_name, u.year_group, nullif(u.reg_class, ''), u.date_of_birth, nullif(u.mobile, ''), $2, $2
		FROM `+unnestPeople, c.args(schoolID, kind, now)...)
	if database.IsUniqueViolation(err, "") {
		return apperr.New(apperr.Conflict, "Someone else changed these people while the import ran. Please try again")
	}
	if err != nil {
		return fmt.Errorf("mis: add %s: %w", kind, err)
	}
	return nil
}

// updatePeople sets every imported field of ps (which have their IDs)
// and marks them as not having left.
func updatePeople(ctx context.Context, tx pgx.Tx, schoolID int64, kind people.Kind, ps []*people.Person, now time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	var c personColumns
	for _, p := range ps {
		c.add(p)
	}
	_, err := tx.Exec(ctx, `UPDATE people p SET mis_id = nullif(u.mis_id, ''), title = u.title, given_name = u.given_name,
			family_name = u.family_name, email = nullif(u.email, ''), staff_role = nullif(u.staff_role, ''), job_title = u.job_title,
			started_on = u.started_on, preferred_name = u.preferred_name, year_group = u.year_group, reg_class = nullif(u.reg_class, ''),
			date_of_birth = u.date_of_birth, mobile = nullif(u.mobile, ''), left_at = NULL, updated_at = $2
		FROM `+unnestPeople+`
		WHERE p.school_id = $1 AND p.kind = $17 AND p.id = u.id`, c.args(schoolID, kind, now)...)
	if database.IsUniqueViolation(err, "") {
		return apperr.New(apperr.Conflict, "Someone else changed these people while the import ran. Please try again")
	}
	if err != nil {
		return fmt.Errorf("mis: change %s: %w", kind, err)
	}
	return nil
}

func markLeavers(ctx context.Context, tx pgx.Tx, schoolID int64, leavers []*current, now time.Time) ([]int64, error) {
	ids := make([]int64, len(leavers))
	for i, c := range leavers {
		ids[i] = c.ID
	}
	if len(ids) == 0 {
		return ids, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE people SET left_at = $3, updated_at = $3 WHERE school_id = $1 AND id = ANY($2)`,
		schoolID, ids, now); err != nil {
		return nil, fmt.Errorf("mis: mark leavers: %w", err)
	}
	return ids, nil
}

func (p *plan) applyStaff(ctx context.Context, tx pgx.Tx, now time.Time) error {
	sp := p.staff
	// Addresses that move from one person (or account) to another are
	// freed first, so no unique index sees two holders mid-way.
	var freePeople, freeAccounts []int64
	for _, r := range sp.rows {
		if r.cur == nil {
			continue
		}
		if r.cur.Email != r.final.Email {
			freePeople = append(freePeople, r.cur.ID)
		}
		if r.acct.update && r.cur.accountID != 0 && r.acct.email != r.cur.accountEmail {
			freeAccounts = append(freeAccounts, r.cur.accountID)
		}
	}
	if len(freePeople) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE people SET email = NULL WHERE school_id = $1 AND id = ANY($2)`, p.schoolID, freePeople); err != nil {
			return fmt.Errorf("mis: staff emails: %w", err)
		}
	}
	if len(freeAccounts) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET email = NULL WHERE school_id = $1 AND id = ANY($2)`, p.schoolID, freeAccounts); err != nil {
			return fmt.Errorf("mis: account emails: %w", err)
		}
	}
	var ins, upd []*people.Person
	for _, r := range sp.rows {
		switch {
		case r.cur == nil:
			ins = append(ins, &r.final)
		case !samePerson(r.cur.Person, r.final) || r.cur.LeftAt != nil:
			upd = append(upd, &r.final)
		}
	}
	if err := updatePeople(ctx, tx, p.schoolID, people.Staff, upd, now); err != nil {
		return err
	}
	if err := insertPeople(ctx, tx, p.schoolID, people.Staff, ins, now); err != nil {
		return err
	}
	for _, r := range sp.rows {
		a := r.acct
		switch {
		case a.create:
			roles := []auth.Role{auth.Staff}
			if r.final.StaffRole == people.Governor {
				roles = append(roles, auth.Governor)
			}
			acc := auth.Account{SchoolID: p.schoolID, PersonID: r.final.ID, Email: r.final.Email, DisplayName: r.final.FullName(), Roles: roles}
			if err := auth.CreateAccountTx(ctx, tx, &acc, ""); err != nil {
				return fmt.Errorf("mis: account for %s: %w", r.final.Email, err)
			}
		case a.linkTo != 0:
			if _, err := tx.Exec(ctx, `UPDATE people SET account_id = $3 WHERE school_id = $1 AND id = $2`, p.schoolID, r.final.ID, a.linkTo); err != nil {
				return fmt.Errorf("mis: link account: %w", err)
			}
			if a.update {
				if _, err := tx.Exec(ctx, `UPDATE accounts SET roles = $3 WHERE school_id = $1 AND id = $2`, p.schoolID, a.linkTo, a.roles); err != nil {
					return fmt.Errorf("mis: account roles: %w", err)
				}
			}
		case a.update:
			if _, err := tx.Exec(ctx, `UPDATE accounts SET email = nullif($3, ''), display_name = $4, roles = $5,
					disabled_at = CASE WHEN $6 THEN NULL ELSE disabled_at END
				WHERE school_id = $1 AND id = $2`, p.schoolID, r.cur.accountID, a.email, a.name, a.roles, a.reenable); err != nil {
				return fmt.Errorf("mis: update account: %w", err)
			}
		}
	}
	ids, err := markLeavers(ctx, tx, p.schoolID, sp.leavers, now)
	if err != nil || len(ids) == 0 {
		return err
	}
	// A leaver's account stops working, unless it still belongs to
	// someone current (a governor who is also a parent) or is an admin's:
	// an export that leaves out the office must not lock the school out
	// of Signoff, so admins' accounts are closed by hand.
	if _, err := tx.Exec(ctx, `UPDATE accounts a SET disabled_at = $3
		WHERE a.school_id = $1 AND a.disabled_at IS NULL AND NOT 'admin' = ANY(a.roles)
		  AND a.id IN (SELECT account_id FROM people WHERE id = ANY($2) AND account_id IS NOT NULL)
		  AND NOT EXISTS (SELECT 1 FROM people o WHERE o.account_id = a.id AND o.left_at IS NULL)`, p.schoolID, ids, now); err != nil {
		return fmt.Errorf("mis: disable leavers' accounts: %w", err)
	}
	return nil
}

func (p *plan) applyPupils(ctx context.Context, tx pgx.Tx, now time.Time) error {
	var ins, upd []*people.Person
	for _, r := range p.pupils.rows {
		switch {
		case r.cur == nil:
			ins = append(ins, &r.final)
		case r.changed:
			upd = append(upd, &r.final)
		}
	}
	if err := updatePeople(ctx, tx, p.schoolID, people.Pupil, upd, now); err != nil {
		return err
	}
	if err := insertPeople(ctx, tx, p.schoolID, people.Pupil, ins, now); err != nil {
		return err
	}
	_, err := markLeavers(ctx, tx, p.schoolID, p.pupils.leavers, now)
	return err
}

func (p *plan) applyContacts(ctx context.Context, tx pgx.Tx, now time.Time) error {
	cp := p.contacts
	var ins, upd []*people.Person
	for _, pa := range cp.parents {
		switch {
		case pa.cur == nil:
			ins = append(ins, &pa.final)
		case pa.cur.LeftAt != nil || !samePerson(pa.cur.Person, pa.final):
			upd = append(upd, &pa.final)
		}
	}
	if err := updatePeople(ctx, tx, p.schoolID, people.Parent, upd, now); err != nil {
		return err
	}
	if err := insertPeople(ctx, tx, p.schoolID, people.Parent, ins, now); err != nil {
		return err
	}

	// Pupils' ids by UPN, new pupils of this import included.
	rows, err := tx.Query(ctx, `SELECT mis_id, id FROM people WHERE school_id = $1 AND kind = 'pupil' AND mis_id IS NOT NULL`, p.schoolID)
	if err != nil {
		return fmt.Errorf("mis: pupils: %w", err)
	}
	pupilID := map[string]int64{}
	for rows.Next() {
		var upn string
		var id int64
		if err := rows.Scan(&upn, &id); err != nil {
			rows.Close()
			return fmt.Errorf("mis: pupils: %w", err)
		}
		pupilID[strings.ToUpper(upn)] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mis: pupils: %w", err)
	}

	if len(cp.removed) > 0 {
		par, pup := make([]int64, len(cp.removed)), make([]int64, len(cp.removed))
		for i, k := range cp.removed {
			par[i], pup[i] = k.parentID, k.pupilID
		}
		if _, err := tx.Exec(ctx, `DELETE FROM guardianships g USING unnest($2::bigint[], $3::bigint[]) AS u(parent_id, pupil_id)
			WHERE g.school_id = $1 AND g.parent_id = u.parent_id AND g.pupil_id = u.pupil_id`, p.schoolID, par, pup); err != nil {
			return fmt.Errorf("mis: remove links: %w", err)
		}
	}
	var addLinks, changeLinks linkColumns
	for _, pa := range cp.parents {
		for _, r := range pa.rows {
			pid, ok := pupilID[r.upn]
			if !ok {
				return fmt.Errorf("mis: pupil %s vanished during the import", r.upn)
			}
			k := linkKey{pa.final.ID, pid}
			old, exists := p.state.links[k]
			switch {
			case pa.cur == nil || !exists:
				addLinks.add(k, r.attrs)
			case old != r.attrs:
				changeLinks.add(k, r.attrs)
			}
		}
	}
	if len(addLinks.parent) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO guardianships (school_id, parent_id, pupil_id, relationship, parental_responsibility, priority, created_at)
			SELECT $1, u.parent_id, u.pupil_id, u.relationship, u.pr, u.priority, $7
			FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::boolean[], $6::int[]) AS u(parent_id, pupil_id, relationship, pr, priority)`,
			p.schoolID, addLinks.parent, addLinks.pupil, addLinks.rel, addLinks.pr, addLinks.priority, now); err != nil {
			return fmt.Errorf("mis: add links: %w", err)
		}
	}
	if len(changeLinks.parent) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE guardianships g SET relationship = u.relationship, parental_responsibility = u.pr, priority = u.priority
			FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::boolean[], $6::int[]) AS u(parent_id, pupil_id, relationship, pr, priority)
			WHERE g.school_id = $1 AND g.parent_id = u.parent_id AND g.pupil_id = u.pupil_id`,
			p.schoolID, changeLinks.parent, changeLinks.pupil, changeLinks.rel, changeLinks.pr, changeLinks.priority); err != nil {
			return fmt.Errorf("mis: change links: %w", err)
		}
	}
	_, err = markLeavers(ctx, tx, p.schoolID, cp.leavers, now)
	return err
}

// linkColumns holds links as columns, for unnest.
type linkColumns struct {
	parent, pupil []int64
	rel           []string
	pr            []bool
	priority      []int32
}

func (c *linkColumns) add(k linkKey, a linkAttrs) {
	c.parent = append(c.parent, k.parentID)
	c.pupil = append(c.pupil, k.pupilID)
	c.rel = append(c.rel, a.relationship)
	c.pr = append(c.pr, a.pr)
	c.priority = append(c.priority, int32(a.priority))
}
