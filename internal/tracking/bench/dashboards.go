package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The office's dashboards, their outstanding lists and exports, and the
// trust view: for the large school and for the trust of 20 schools, with
// staff forms and parents' forms measured apart. The rows are as served,
// through the page cache; a note under the table gives its hit rate in
// the step and the slowest row's service time when every request misses.
func init() {
	register(step{order: 100, name: "dashboards", run: func(ctx context.Context, b *bench) error {
		type dashRow struct {
			name string
			at   func(i int) (*http.Client, string)
		}
		var rows []dashRow
		measure := func(name string, n int, at func(i int) (*http.Client, string)) {
			rows = append(rows, dashRow{name, at})
			b.measure(name, n, func(i int) error { return get(at(i)) })
		}
		before, err := b.server.pageCache()
		if err != nil {
			return err
		}
		type form struct{ school, form int64 }
		forms := func(schools []int64, audience string) ([]form, error) {
			rows, err := b.db.Pool.Query(ctx, `SELECT school_id, id FROM forms WHERE school_id = ANY ($1) AND audience = $2 ORDER BY id`, schools, audience)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []form
			for rows.Next() {
				var f form
				if err := rows.Scan(&f.school, &f.form); err != nil {
					return nil, err
				}
				out = append(out, f)
			}
			return out, rows.Err()
		}
		scopes := []struct {
			name    string
			schools []int64
		}{
			{"large school", []int64{b.data.LargeID}},
			{fmt.Sprintf("trust of %d schools", len(b.data.SchoolIDs)), b.data.SchoolIDs},
		}
		for _, sc := range scopes {
			if len(sc.schools) == 0 || sc.schools[0] == 0 {
				continue
			}
			staff, err := forms(sc.schools, "staff")
			if err != nil {
				return err
			}
			parents, err := forms(sc.schools, "parents")
			if err != nil {
				return err
			}
			measure("School dashboard GET /admin/tracking, "+sc.name, 2000, func(i int) (*http.Client, string) {
				id := sc.schools[i%len(sc.schools)]
				return b.admins[id], b.base + "/admin/tracking"
			})
			for _, k := range []struct {
				what  string
				forms []form
			}{{"staff form", staff}, {"parents' form", parents}} {
				if len(k.forms) == 0 {
					continue
				}
				fs := k.forms
				measure(fmt.Sprintf("Dashboard of a %s with its outstanding list GET /admin/tracking/forms/{id}, %s", k.what, sc.name), 2000, func(i int) (*http.Client, string) {
					f := fs[(i*7)%len(fs)]
					return b.admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d", b.base, f.form)
				})
				measure(fmt.Sprintf("Outstanding list of a %s, page 2 sorted by last reminder, %s", k.what, sc.name), 2000, func(i int) (*http.Client, string) {
					f := fs[(i*13)%len(fs)]
					return b.admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d?sort=reminded&page=2", b.base, f.form)
				})
				measure(fmt.Sprintf("Export of a %s's outstanding list (CSV), %s", k.what, sc.name), 1000, func(i int) (*http.Client, string) {
					f := fs[(i*11)%len(fs)]
					return b.admins[f.school], fmt.Sprintf("%s/admin/tracking/forms/%d/export?format=csv", b.base, f.form)
				})
			}
			measure("Export of every form's figures (CSV) GET /admin/tracking/export, "+sc.name, 1000, func(i int) (*http.Client, string) {
				id := sc.schools[i%len(sc.schools)]
				return b.admins[id], b.base + "/admin/tracking/export?format=csv"
			})
		}
		first := b.data.SchoolIDs[0]
		if _, err := b.db.Pool.Exec(ctx, `UPDATE accounts SET roles = roles || '{trust_admin}' WHERE email = $1`, b.data.AdminEmails[first]); err != nil {
			return err
		}
		measure(fmt.Sprintf("Trust view GET /trust (%d schools, staff and parents' forms)", len(b.data.SchoolIDs)+1), 1000, func(int) (*http.Client, string) {
			return b.admins[first], b.base + "/trust"
		})
		after, err := b.server.pageCache()
		if err != nil {
			return err
		}
		// Every row again, each request at an address of its own (an
		// extra parameter the pages ignore), so that each one misses.
		var slowest string
		var slowestTook time.Duration
		for _, r := range rows {
			res := loadN(r.name+" [built afresh]", 0, 20, 1, func(i int) error {
				c, u := r.at(i)
				sep := "?"
				if strings.Contains(u, "?") {
					sep = "&"
				}
				return get(c, fmt.Sprintf("%s%suncached=%d", u, sep, i))
			})
			if took := res.pct(0.5); took > slowestTook {
				slowest, slowestTook = r.name, took
			}
		}
		hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
		b.note(fmt.Sprintf("Page cache (docs/page-cache.md): %d of the step's %d dashboard requests were served from it (%.1f %%), %d built; "+
			"built afresh every time (each request at an address of its own, 20 at concurrency 1), the slowest row is %s at %s.",
			hits, hits+misses, 100*float64(hits)/float64(max(hits+misses, 1)), misses, slowest, ms(slowestTook)))
		return nil
	}})
}
