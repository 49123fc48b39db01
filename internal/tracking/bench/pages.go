package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"

	"signoff/internal/audit"
	"signoff/internal/auth"
)

// The everyday pages other than dashboards (issue 15: at least 15 % of
// the static file's throughput at concurrency 50): staff home, a staff
// sign page, the family page, a signature's receipt, a policy page for a
// governor, and the verify page. Each uses a few real sessions spread
// over the schools.
var pagesProfile = flag.String("pages-cpuprofile", "", "write a CPU profile of the server process during the everyday pages step to this file")

func init() {
	register(step{order: 150, name: "everyday pages", run: func(ctx context.Context, b *bench) error {
		if *pagesProfile != "" {
			file, err := filepath.Abs(*pagesProfile)
			if err != nil {
				return err
			}
			stop, err := b.server.profileCPU(file)
			if err != nil {
				return err
			}
			defer func() { _ = stop() }()
		}
		admins := make([]string, 0, len(b.data.AdminEmails))
		for _, e := range b.data.AdminEmails {
			admins = append(admins, e)
		}
		// One member of staff per school who has signed a form and owes
		// another: their home, the owed form's page, their receipt.
		type member struct {
			c          *http.Client
			email, ref string
			owed       int64
		}
		rows, err := b.db.Pool.Query(ctx, `SELECT DISTINCT ON (p.school_id) p.email, s.reference, f.id
			FROM people p JOIN signatures s ON s.person_id = p.id
			JOIN forms f ON f.school_id = p.school_id AND p.staff_role = ANY (f.audience_staff_roles)
			WHERE p.school_id = ANY ($1) AND p.kind = 'staff' AND p.account_id IS NOT NULL AND p.email <> ALL ($2)
			  AND NOT EXISTS (SELECT 1 FROM signatures o WHERE o.form_id = f.id AND o.person_id = p.id)
			ORDER BY p.school_id, p.id, s.id, f.id`, b.data.SchoolIDs, admins)
		if err != nil {
			return err
		}
		var staff []member
		for rows.Next() {
			var m member
			_ = rows.Scan(&m.email, &m.ref, &m.owed)
			staff = append(staff, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(staff) == 0 {
			return fmt.Errorf("no member of staff who has signed one form and owes another")
		}
		for i := range staff {
			if staff[i].c, err = b.signIn(staff[i].email); err != nil {
				return err
			}
		}
		b.measure("Staff home GET /", 5000, func(i int) error {
			return get(staff[i%len(staff)].c, b.base+"/")
		})
		b.measure("Staff sign page GET /forms/{id}", 5000, func(i int) error {
			m := staff[i%len(staff)]
			return get(m.c, fmt.Sprintf("%s/forms/%d", b.base, m.owed))
		})
		b.measure("Signature receipt GET /signatures/{ref}", 5000, func(i int) error {
			m := staff[i%len(staff)]
			return get(m.c, b.base+"/signatures/"+m.ref)
		})

		// Governors (one per school, given the governor role) on a policy.
		type governor struct {
			c      *http.Client
			policy int64
		}
		rows, err = b.db.Pool.Query(ctx, `WITH g AS (
				SELECT DISTINCT ON (p.school_id) p.school_id, p.email, p.account_id FROM people p
				WHERE p.school_id = ANY ($1) AND p.kind = 'staff' AND p.staff_role = 'governor' AND p.account_id IS NOT NULL
				ORDER BY p.school_id, p.id),
			up AS (UPDATE accounts a SET roles = a.roles || '{governor}' FROM g WHERE a.id = g.account_id)
			SELECT g.email, (SELECT min(id) FROM policies WHERE school_id = g.school_id) FROM g`, b.data.SchoolIDs)
		if err != nil {
			return err
		}
		var govs []governor
		var govEmails []string
		for rows.Next() {
			var g governor
			var email string
			_ = rows.Scan(&email, &g.policy)
			govs = append(govs, g)
			govEmails = append(govEmails, email)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(govs) == 0 {
			return fmt.Errorf("no governor with an account")
		}
		for i := range govs {
			if govs[i].c, err = b.signIn(govEmails[i]); err != nil {
				return err
			}
		}
		b.measure("Policy page for a governor GET /policies/{id}", 5000, func(i int) error {
			g := govs[i%len(govs)]
			return get(g.c, fmt.Sprintf("%s/policies/%d", b.base, g.policy))
		})

		// Parents: one per school, signed in through a family link.
		rows, err = b.db.Pool.Query(ctx, `SELECT DISTINCT ON (school_id) school_id, id FROM people
			WHERE school_id = ANY ($1) AND kind = 'parent' AND left_at IS NULL
			  AND EXISTS (SELECT 1 FROM guardianships g WHERE g.parent_id = people.id)
			ORDER BY school_id, id`, b.data.SchoolIDs)
		if err != nil {
			return err
		}
		var parents [][2]int64
		for rows.Next() {
			var p [2]int64
			_ = rows.Scan(&p[0], &p[1])
			parents = append(parents, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		accounts := auth.NewStore(b.db)
		var families []*http.Client
		for _, p := range parents {
			link, err := accounts.IssueFamilyLink(ctx, p[0], p[1], audit.System("bench"), nil)
			if err != nil {
				return err
			}
			c := b.client()
			res, err := c.Get(b.base + "/f/" + link.Token)
			if err != nil {
				return err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				return fmt.Errorf("family link: %d", res.StatusCode)
			}
			families = append(families, c)
		}
		if len(families) == 0 {
			return fmt.Errorf("no parent with a child")
		}
		b.measure("Family page GET /family (family link session)", 5000, func(i int) error {
			return get(families[i%len(families)], b.base+"/family")
		})

		b.measure("Verify page GET /verify (anonymous)", 5000, func(int) error {
			return get(b.anon, b.base+"/verify")
		})
		return nil
	}})
}
