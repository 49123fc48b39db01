package signing_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"signoff/internal/people"
)

// BenchmarkSign is the signing transaction alone (no HTTP), 50 signers at
// once, each signature by a different member of staff, as when a form is
// published and its audience signs. Beside the time it reports the CPU
// each signing costs, in this process (cpu-ms/op) and in the PostgreSQL
// backends that ran it (pg-cpu-ms/op): on a shared machine those hardly
// move when other work slows the clock. Run it with a fixed count, e.g.
// go test -run '^$' -bench Sign -benchtime 2000x ./internal/signing/
func BenchmarkSign(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	// Every signer at once, in one statement (one refresh of who owes
	// what, not one per person).
	if _, err := f.db.Pool.Exec(ctx, `INSERT INTO people (school_id, kind, given_name, family_name, email, staff_role)
		SELECT $1, 'staff', 'Sam', 'Signer' || i, 'signer' || i || '@example.org', 'teacher' FROM generate_series(1, $2) i`,
		f.school.ID, b.N); err != nil {
		b.Fatal(err)
	}
	rows, err := f.db.Pool.Query(ctx, `SELECT id, given_name, family_name FROM people WHERE school_id = $1 AND email LIKE 'signer%' ORDER BY id`, f.school.ID)
	if err != nil {
		b.Fatal(err)
	}
	var staff []people.Person
	for rows.Next() {
		p := people.Person{SchoolID: f.school.ID, Kind: people.Staff, StaffRole: people.Teacher}
		if err := rows.Scan(&p.ID, &p.GivenName, &p.FamilyName); err != nil {
			b.Fatal(err)
		}
		staff = append(staff, p)
	}
	if rows.Err() != nil || len(staff) != b.N {
		b.Fatalf("%d signers (%v), want %d", len(staff), rows.Err(), b.N)
	}
	goBefore, pgBefore := processCPU(), backendsCPU(b, f)
	var next atomic.Int64
	b.SetParallelism(25) // 25 per GOMAXPROCS: 50 signers on two cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := staff[next.Add(1)-1]
			if _, created, err := f.sign.Sign(ctx, f.input(p, f.version.ID)); err != nil || !created {
				b.Errorf("sign: %v (created %v)", err, created)
				return
			}
		}
	})
	b.StopTimer()
	goAfter, pgAfter := processCPU(), backendsCPU(b, f)
	b.ReportMetric(float64(goAfter-goBefore)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	var pg time.Duration
	for pid, after := range pgAfter {
		pg += after - pgBefore[pid]
	}
	b.ReportMetric(float64(pg)/float64(time.Millisecond)/float64(b.N), "pg-cpu-ms/op")
	var n int
	if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM obligations WHERE form_id = $1 AND signature_id IS NOT NULL`, f.form.ID).Scan(&n); err != nil || n != b.N {
		b.Fatalf("%d obligations signed (%v), want %d", n, err, b.N)
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendsCPU is the CPU time used so far by each backend of the test's
// database, by process id (Linux: /proc/PID/stat, in clock ticks of 10 ms).
func backendsCPU(b *testing.B, f *fixture) map[int]time.Duration {
	rows, err := f.db.Pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which ends with ")"): utime and stime
		// are the 12th and 13th.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}
