package main

import (
	"context"
	"fmt"
)

// The office's dashboards and the trust view.
func init() {
	register(step{order: 100, name: "dashboards", run: func(ctx context.Context, b *bench) error {
		var forms []struct{ school, form int64 }
		rows, err := b.db.Pool.Query(ctx, `SELECT school_id, id FROM forms WHERE school_id = ANY ($1) ORDER BY id`, b.data.SchoolIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var f struct{ school, form int64 }
			_ = rows.Scan(&f.school, &f.form)
			forms = append(forms, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		b.measure("School dashboard GET /admin/tracking", 2000, func(i int) error {
			id := b.data.SchoolIDs[i%len(b.data.SchoolIDs)]
			return get(b.admins[id], b.base+"/admin/tracking")
		})
		b.measure("Form dashboard + outstanding list GET /admin/tracking/forms/{id}", 2000, func(i int) error {
			f := forms[(i*7)%len(forms)]
			return get(b.admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d", b.base, f.form))
		})
		b.measure("Outstanding list, page 2 sorted by last reminder", 2000, func(i int) error {
			f := forms[(i*13)%len(forms)]
			return get(b.admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d?sort=reminded&page=2", b.base, f.form))
		})
		first := b.data.SchoolIDs[0]
		if _, err := b.db.Pool.Exec(ctx, `UPDATE accounts SET roles = roles || '{trust_admin}' WHERE email = $1`, b.data.AdminEmails[first]); err != nil {
			return err
		}
		b.measure(fmt.Sprintf("Trust view GET /trust (%d schools)", len(b.data.SchoolIDs)), 200, func(int) error {
			return get(b.admins[first], b.base+"/trust")
		})
		return nil
	}})
}
