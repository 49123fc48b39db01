package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"signoff/internal/audit"
)

var signingProfile = flag.String("signing-cpuprofile", "", "write a CPU profile of the server process during the measured signature POSTs to this file")

// Staff sign in (argon2id), then each signs a form they owe.
func init() {
	register(step{order: 200, name: "signing", run: func(ctx context.Context, b *bench) error {
		type owed struct {
			email, name   string
			form, version int64
		}
		admins := make([]string, 0, len(b.data.AdminEmails))
		for _, e := range b.data.AdminEmails {
			admins = append(admins, e)
		}
		orows, err := b.db.Pool.Query(ctx, `SELECT p.email, p.given_name || ' ' || p.family_name, f.id, fc.version_id
			FROM forms f JOIN form_current fc ON fc.form_id = f.id
			JOIN people p ON p.school_id = f.school_id AND p.kind = 'staff' AND p.staff_role = ANY (f.audience_staff_roles)
			WHERE f.school_id = ANY ($1) AND p.account_id IS NOT NULL
			  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.form_id = f.id AND s.person_id = p.id)
			  AND p.email <> ALL ($2)
			ORDER BY p.id, f.id`, b.data.SchoolIDs, admins)
		if err != nil {
			return err
		}
		var todo []owed
		for orows.Next() {
			var o owed
			_ = orows.Scan(&o.email, &o.name, &o.form, &o.version)
			todo = append(todo, o)
		}
		orows.Close()
		if err := orows.Err(); err != nil {
			return err
		}
		// 600 signers owe about 2,000 signatures: enough for some 1,700
		// measured at 50 in flight, so that the 99th percentile is not
		// decided by a handful of requests (it was 8 of 812 with 300).
		signers := map[string]*http.Client{}
		owedBy := map[string][]owed{}
		var byEmail []string
		for _, o := range todo {
			owedBy[o.email] = append(owedBy[o.email], o)
			if _, ok := signers[o.email]; !ok && len(signers) < 600 {
				signers[o.email] = nil
				byEmail = append(byEmail, o.email)
			}
		}
		var mu sync.Mutex
		b.measureAt("Sign-in POST /sign-in (argon2id), 50 concurrent", len(byEmail), concurrency, func(i int) error {
			c, err := b.signIn(byEmail[i])
			mu.Lock()
			signers[byEmail[i]] = c
			mu.Unlock()
			return err
		})
		// Sign-ins turned away (503: the password hashing's queue was full)
		// are made again one at a time, unmeasured, so that every signer
		// has a session.
		for _, email := range byEmail {
			if signers[email] != nil {
				continue
			}
			if c, err := b.signIn(email); err == nil {
				signers[email] = c
			}
		}
		// The posts go round the signers (everyone's first form, then
		// everyone's second, ...), so that the 50 in flight are 50 people, as
		// when a form is published and its audience signs: not a few people
		// each submitting ten forms at the same instant, whose signatures
		// would queue on their own rows (the obligations' lock per person).
		var posts []owed
		for round := 0; ; round++ {
			added := false
			for _, email := range byEmail {
				if forms := owedBy[email]; signers[email] != nil && round < len(forms) {
					posts = append(posts, forms[round])
					added = true
				}
			}
			if !added {
				break
			}
		}
		// What one signature adds: rows per table and bytes on disk.
		growthTables := []string{"signatures", "audit_log", "signed_copies", "outbox", "river_job", "sessions"}
		snapshot := func() (map[string]int64, int64, error) {
			rows := map[string]int64{}
			for _, tbl := range growthTables {
				var n int64
				if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+tbl).Scan(&n); err != nil {
					return nil, 0, err
				}
				rows[tbl] = n
			}
			var size int64
			err := b.db.Pool.QueryRow(ctx, `SELECT sum(pg_total_relation_size(relid))::bigint FROM pg_stat_user_tables`).Scan(&size)
			return rows, size, err
		}
		// The audit chainer a server runs (cmd/signoff serve), linking each
		// signature's audit entry after its commit, runs while signing; what
		// the data's generation left waiting is linked first.
		if _, err := audit.Link(ctx, b.db); err != nil {
			return err
		}
		rowsBefore, sizeBefore, err := snapshot()
		if err != nil {
			return err
		}
		chainCtx, stopChainer := context.WithCancel(ctx)
		defer stopChainer()
		chainerDone := make(chan struct{})
		go func() { defer close(chainerDone); audit.NewChainer(b.db, nil).Run(chainCtx) }()
		refRE := regexp.MustCompile(`/signatures/(SG-[0-9A-Z-]+)`)
		post := func(i int) error {
			if i >= len(posts) {
				return fmt.Errorf("sign: no request left to sign")
			}
			o := posts[i]
			res, err := signers[o.email].PostForm(fmt.Sprintf("%s/forms/%d", b.base, o.form), url.Values{"version_id": {fmt.Sprint(o.version)}, "agree": {"yes"}, "typed_name": {o.name}})
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				return fmt.Errorf("sign: %d", res.StatusCode)
			}
			if !refRE.MatchString(res.Header.Get("Location")) {
				return fmt.Errorf("sign: redirected to %q", res.Header.Get("Location"))
			}
			return nil
		}
		// A running server's connections have long since prepared and
		// planned the signing's statements (the read, the obligations
		// trigger's refresh: about 6 ms of PostgreSQL's CPU once per
		// connection); a few signatures at 50 at once, not counted, do that
		// for each connection here, so that the figures are those of a
		// server that has been up for more than a minute.
		warm := min(100, len(posts)/10)
		loadN("Staff signature POST /forms/{id}, warming the connections (not counted)", 0, warm, concurrency, post)
		n := min(2000, (len(posts)-warm)*10/11) // measure scales it; the c=1 run takes a tenth more
		// CPU per signature, of the server and of PostgreSQL, over the
		// measured runs (at 1 and at 50): figures that other work on the
		// machine hardly moves, unlike the times.
		var signedBefore, signedAfter int64
		if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures`).Scan(&signedBefore); err != nil {
			return err
		}
		srvBefore, dbBefore, err := b.cpuUse(ctx)
		if err != nil {
			return err
		}
		stopProfile, err := b.profileIf(*signingProfile)
		if err != nil {
			return err
		}
		b.measureOnce("Staff signature POST /forms/{id}", n, func(i int) error { return post(warm + i) })
		if err := stopProfile(); err != nil {
			return err
		}
		srvAfter, dbAfter, err := b.cpuUse(ctx)
		if err != nil {
			return err
		}
		if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM signatures`).Scan(&signedAfter); err != nil {
			return err
		}
		if made := signedAfter - signedBefore; made > 0 {
			perSig := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(made) }
			b.note(fmt.Sprintf("CPU per signature POST (%d measured, at 1 and at 50 in flight; from /proc): the server %.2f ms, PostgreSQL %.2f ms (every process of its cluster; the audit chainer's statements included).",
				made, perSig(srvAfter-srvBefore), perSig(dbAfter-dbBefore)))
		}
		stopChainer()
		<-chainerDone
		var waiting int
		if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE seq IS NULL`).Scan(&waiting); err != nil {
			return err
		}
		started := time.Now()
		broken, checked, err := audit.Verify(ctx, b.db)
		if err != nil {
			return err
		}
		if broken != nil {
			return fmt.Errorf("the audit chain is broken after signing: %+v", *broken)
		}
		b.note(fmt.Sprintf("Audit chain after signing: %d entries waiting to be chained once the chainer stopped, then all %d verified in %s.",
			waiting, checked, time.Since(started).Round(time.Millisecond)))
		rowsAfter, sizeAfter, err := snapshot()
		if err != nil {
			return err
		}
		if made := rowsAfter["signatures"] - rowsBefore["signatures"]; made > 0 {
			var parts []string
			for _, tbl := range growthTables {
				parts = append(parts, fmt.Sprintf("%s %.2f", tbl, float64(rowsAfter[tbl]-rowsBefore[tbl])/float64(made)))
			}
			b.note(fmt.Sprintf("Growth: %d signatures through the web added, per signature, rows: %s; and %.1f kB to the database's tables and indexes (WAL not counted, nor signed-copy PDFs: a copy is stored on its first download).",
				made, strings.Join(parts, ", "), float64(sizeAfter-sizeBefore)/float64(made)/1024))
		}
		return nil
	}})
}
