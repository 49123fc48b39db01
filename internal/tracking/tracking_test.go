package tracking_test

import (
	"context"
	"strings"
	"testing"

	"signoff/internal/audit"
	"signoff/internal/database/dbtest"
	"signoff/internal/evidence"
	"signoff/internal/tracking"
	"signoff/internal/tracking/benchdata"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestSmallTrust is the benchmark's generator in miniature, with the
// figures checked against plain counts.
func TestSmallTrust(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	cfg := benchdata.Config{Schools: 2, StaffPerSchool: 12, PupilsPerSch: 30, ParentsPerSch: 45, FormsPerSchool: 3, ParentForms: 3, SignedShare: 0.5,
		BigFormSigned: 5, Large: benchdata.Size{Staff: 5, Pupils: 40, Parents: 70}, Password: "small-trust-pw", Seed: 7}
	res, err := benchdata.Generate(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The generated records are evidence like any other: every seal and
	// chain checks, so the benchmark's signed copies are issued.
	if rep, err := evidence.CheckAll(ctx, db, nil); err != nil || !rep.OK() {
		t.Fatalf("generated data fails the evidence check: %v %+v", err, rep.Problems)
	}
	st := tracking.NewStore(db)
	forms, err := st.Forms(ctx, append(res.SchoolIDs, res.BigSchoolID, res.LargeID))
	if err != nil {
		t.Fatal(err)
	}
	if len(forms) != 3*(3+3)+1 {
		t.Fatalf("%d forms, want 19", len(forms))
	}
	if res.Withdrawals == 0 {
		t.Fatal("no consent was withdrawn")
	}
	audience, signed, withdrawn := 0, 0, 0
	for _, f := range forms {
		audience += f.Audience
		signed += f.Signed
		withdrawn += f.Withdrawn
		rows, total, err := st.List(ctx, tracking.ListQuery{SchoolID: f.SchoolID, FormID: f.FormID, PerPage: 2, Page: 1})
		if err != nil {
			t.Fatal(err)
		}
		if total != f.Outstanding() || len(rows) != min(2, total) {
			t.Fatalf("%s: list of %d (page %d), want %d", f.Title, total, len(rows), f.Outstanding())
		}
	}
	// A withdrawal is two records (given, then changed to no): one request withdrawn.
	if audience != res.Requests || signed != res.Signatures-2*res.Withdrawals || withdrawn != res.Withdrawals {
		t.Fatalf("figures %d/%d (%d withdrawn), generated %d/%d (%d withdrawn)", signed, audience, withdrawn, res.Signatures-2*res.Withdrawals, res.Requests, res.Withdrawals)
	}
	if d := res.Describe(cfg); !strings.Contains(d, "2 schools") {
		t.Fatalf("description %q", d)
	}
	consistent(t, st, "generating the trust")
	_, schools, _, err := st.Trust(ctx, res.SchoolIDs[0])
	if err != nil || len(schools) != 3 {
		t.Fatalf("trust: %d schools, %v", len(schools), err)
	}
	// Reminders: once a day, however often.
	f := forms[0]
	first, err := st.Remind(ctx, tracking.RemindInput{SchoolID: f.SchoolID, FormID: f.FormID, Actor: audit.System("test"), Origin: tracking.ByOffice, BaseURL: "http://x"})
	if err != nil || first.Queued != f.Outstanding() {
		t.Fatalf("remind: %+v %v (want %d)", first, err, f.Outstanding())
	}
	again, err := st.Remind(ctx, tracking.RemindInput{SchoolID: f.SchoolID, FormID: f.FormID, Actor: audit.System("test"), Origin: tracking.ByOffice, BaseURL: "http://x"})
	if err != nil || again.Queued != 0 || again.AlreadyToday != f.Outstanding() {
		t.Fatalf("remind again: %+v %v", again, err)
	}
}
