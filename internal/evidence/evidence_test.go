package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/database/dbtest"
	"signoff/internal/demo"
	"signoff/internal/evidence"
	"signoff/internal/pdf"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/schools"
	"signoff/internal/signing"
	"signoff/internal/signkey"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const baseURL = "https://signoff.example"

// fixture is the demo school (staff signatures of two policies), its
// database as the application and as the superuser an attacker might hold.
type fixture struct {
	t      *testing.T
	db     *database.DB
	owner  *database.DB
	st     *evidence.Store
	school int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, owner := dbtest.NewWithOwner(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	// The demo's audit entries chained, as a server's chainer does right
	// after they commit (internal/audit): tampering comes after.
	if _, err := audit.Link(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, owner: owner, st: evidence.NewStore(db, baseURL+"/")}
	f.school = f.id(`SELECT id FROM schools`)
	return f
}

func (f *fixture) id(q string, args ...any) int64 {
	f.t.Helper()
	return dbtest.Scalar[int64](f.t, f.db, q, args...)
}

func (f *fixture) text(q string, args ...any) string {
	f.t.Helper()
	return dbtest.Scalar[string](f.t, f.db, q, args...)
}

// tamper runs sql as the database's superuser with every trigger off, as
// an attacker holding it could.
func (f *fixture) tamper(sql string, args ...any) {
	f.t.Helper()
	ctx := context.Background()
	tx, err := f.owner.Pool.Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		f.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		f.t.Fatalf("tamper %s: %v", sql, err)
	}
	if err := tx.Commit(ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) verify(ref string) evidence.Result {
	f.t.Helper()
	res, err := f.st.VerifyReference(context.Background(), ref)
	if err != nil {
		f.t.Fatalf("verify %s: %v", ref, err)
	}
	return res
}

func (f *fixture) check() evidence.Report {
	f.t.Helper()
	rep, err := evidence.CheckAll(context.Background(), f.db, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

func (f *fixture) problemAbout(rep evidence.Report, what string) bool {
	for _, p := range rep.Problems {
		if strings.HasPrefix(p.What, what) {
			return true
		}
	}
	return false
}

// firstStaffSignature is the reference and id of the demo's first staff signature.
func (f *fixture) firstStaffSignature() (string, int64) {
	f.t.Helper()
	id := f.id(`SELECT id FROM signatures WHERE version_id IS NOT NULL ORDER BY id LIMIT 1`)
	return f.text(`SELECT reference FROM signatures WHERE id = $1`, id), id
}

// TestSealCoversEveryEvidentialField changes each field the seal covers,
// one at a time, as the database's superuser could, and checks that the
// record then fails verification (by reference and in signoff audit
// verify's CheckAll), and verifies again once the field is put back.
// The fields are read from signing.SealColumns, so a field added to the
// seal without a case here fails the test.
func TestSealCoversEveryEvidentialField(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ref, id := f.firstStaffSignature()
	if res := f.verify(ref); !res.Verified() || res.SealState != evidence.SealIntact {
		t.Fatalf("before any change: %+v", res)
	}
	rep := f.check()
	if !rep.OK() || rep.Records == 0 || rep.Sealed != rep.Records || rep.Chains != 1 || rep.Texts < 2 {
		t.Fatalf("before any change: %+v", rep)
	}
	var other schools.School
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		other = schools.School{Slug: "elsewhere", Name: "Elsewhere School"}
		return schools.CreateTx(ctx, tx, &other)
	}); err != nil {
		t.Fatal(err)
	}
	// The attacker may turn off the rules tying method to witness and
	// recorder (migration 0029's trigger, which fires even as a replica).
	f.tamper(`ALTER TABLE signatures DISABLE TRIGGER signatures_valid`)
	f.tamper(`CREATE TABLE sig_backup AS SELECT * FROM signatures WHERE id = $1`, id)

	changes := map[string]string{
		"school_id":       `(SELECT id FROM schools WHERE slug = 'elsewhere')`,
		"form_id":         `(SELECT id FROM forms WHERE id <> signatures.form_id ORDER BY id LIMIT 1)`,
		"person_id":       `(SELECT id FROM people WHERE kind = 'staff' AND id <> signatures.person_id ORDER BY id LIMIT 1)`,
		"pupil_id":        `(SELECT id FROM people WHERE kind = 'pupil' ORDER BY id LIMIT 1)`,
		"version_id":      `(SELECT id FROM policy_versions WHERE id <> signatures.version_id ORDER BY id LIMIT 1)`,
		"version_sha256":  `repeat('a', 64)`,
		"statement":       `statement || ' (and more)'`,
		"typed_name":      `typed_name || 'e'`,
		"drawn_signature": `coalesce(drawn_signature, ''::bytea) || '\x01'::bytea`,
		"answers":         `answers || '{"extra": "yes"}'::jsonb`,
		"academic_year":   `academic_year - 1`,
		"method":          `'class'`,
		"account_id":      `(SELECT id FROM accounts WHERE id IS DISTINCT FROM signatures.account_id ORDER BY id LIMIT 1)`,
		"ip":              `'198.51.100.66'`,
		"user_agent":      `user_agent || ' (changed)'`,
		"reference":       `'SG-AAAA-BBBB-CCCC'`,
		"supersedes_id":   `(SELECT id FROM signatures s2 WHERE s2.id <> signatures.id ORDER BY id LIMIT 1)`,
		"signed_at":       `signed_at + interval '1 microsecond'`,
		"part":            `'school'`,
		"witness_id":      `(SELECT id FROM people WHERE kind = 'staff' ORDER BY id LIMIT 1)`,
		"recorded_by":     `(SELECT id FROM accounts ORDER BY id LIMIT 1)`,
		"paper_date":      `date '2026-09-15'`,
		"key_stage":       `2`,
		"language":        `'cy'`,
		"identified_by":   `coalesce(identified_by, '') || 'Microsoft 365 account'`,
	}
	cols := regexp.MustCompile(`\bs\.([a-z0-9_]+)`).FindAllStringSubmatch(signing.SealColumns, -1)
	if len(cols) != len(changes) {
		t.Errorf("the seal covers %d columns, the test changes %d", len(cols), len(changes))
	}
	for _, m := range cols {
		col := m[1]
		change, ok := changes[col]
		if !ok {
			t.Errorf("the seal covers %s, which this test does not change", col)
			continue
		}
		f.tamper(`UPDATE signatures SET `+col+` = `+change+` WHERE id = $1`, id)
		now := f.text(`SELECT reference FROM signatures WHERE id = $1`, id)
		if f.text(`SELECT (s.`+col+` IS DISTINCT FROM b.`+col+`)::text FROM signatures s, sig_backup b WHERE s.id = b.id`) != "true" {
			t.Fatalf("%s: the change changed nothing", col)
		}
		res := f.verify(now)
		if res.Verified() || res.SealState == evidence.SealIntact {
			t.Errorf("%s changed: still verifies (%+v)", col, res)
		}
		if rep := f.check(); !f.problemAbout(rep, "signature "+now) {
			t.Errorf("%s changed: CheckAll names no problem with the record: %v", col, rep.Problems)
		}
		f.tamper(`UPDATE signatures s SET ` + col + ` = b.` + col + ` FROM sig_backup b WHERE s.id = b.id`)
		if res := f.verify(ref); !res.Verified() {
			t.Fatalf("%s put back: %+v", col, res)
		}
	}
	if rep := f.check(); !rep.OK() {
		t.Fatalf("after putting everything back: %v", rep.Problems)
	}
}

func TestSealStates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref, id := f.firstStaffSignature()
	seal := f.text(`SELECT seal FROM signatures WHERE id = $1`, id)
	if !strings.HasPrefix(seal, "1:") || len(seal) != 66 {
		t.Fatalf("seal %q", seal)
	}
	// The audit entry that recorded the signature carries the same seal.
	if got := f.text(`SELECT detail->>'seal' FROM audit_log WHERE subject = 'signature ' || $1 AND detail ? 'seal'`, ref); got != seal {
		t.Fatalf("audit entry's seal %q, record's %q", got, seal)
	}
	// A record re-sealed to match changed fields still disagrees with its audit entry.
	f.tamper(`UPDATE signatures SET typed_name = 'Somebody Else' WHERE id = $1`, id)
	if res := f.verify(ref); res.SealState != evidence.SealChanged || res.Verified() {
		t.Fatalf("changed: %+v", res)
	}
	var fields signing.SealFields
	var err error
	fields, err = signing.ScanSeal(f.db.Pool.QueryRow(context.Background(), `SELECT `+signing.SealColumns+` FROM signatures s WHERE s.id = $1`, id))
	if err != nil {
		t.Fatal(err)
	}
	f.tamper(`UPDATE signatures SET seal = $2 WHERE id = $1`, id, fields.Seal())
	if res := f.verify(ref); res.SealState != evidence.SealMissing || res.Verified() {
		t.Fatalf("re-sealed: %+v", res)
	}
	f.tamper(`UPDATE signatures SET seal = NULL WHERE id = $1`, id)
	if res := f.verify(ref); res.SealState != evidence.SealMissing {
		t.Fatalf("no seal: %+v", res)
	}
	// Marked erased without the erasure's audit entry: missing, not erased.
	id2 := f.id(`SELECT id FROM signatures WHERE version_id IS NOT NULL AND id <> $1 ORDER BY id LIMIT 1`, id)
	ref2 := f.text(`SELECT reference FROM signatures WHERE id = $1`, id2)
	f.tamper(`UPDATE signatures SET erased_at = now() WHERE id = $1`, id2)
	if res := f.verify(ref2); res.SealState != evidence.SealMissing {
		t.Fatalf("erased without an entry: %+v", res)
	}
	for st, good := range map[evidence.SealState]bool{evidence.SealIntact: true, evidence.SealBefore: true, evidence.SealErased: true,
		evidence.SealChanged: false, evidence.SealMissing: false} {
		if st.Good() != good || (st.Reason() == "") != good {
			t.Errorf("%s: good %v, reason %q", st, st.Good(), st.Reason())
		}
	}
	if rep := f.check(); !f.problemAbout(rep, "signature "+ref) || !f.problemAbout(rep, "signature "+ref2) || rep.Sealed != rep.Records-2 {
		t.Fatalf("check: sealed %d of %d, %v", rep.Sealed, rep.Records, rep.Problems)
	}
}

func TestChainAndTexts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ref, _ := f.firstStaffSignature()
	// An audit entry rewritten: the chain breaks at it.
	entry := f.id(`SELECT id FROM audit_log WHERE school_id = $1 ORDER BY id LIMIT 1 OFFSET 3`, f.school)
	f.tamper(`UPDATE audit_log SET action = 'nothing.happened' WHERE id = $1`, entry)
	rep := f.check()
	if !f.problemAbout(rep, "audit entry ") || rep.OK() {
		t.Fatalf("rewritten entry: %v", rep.Problems)
	}
	// A policy's text changed after publishing: its records no longer
	// verify, no copy is issued, and CheckAll names the version.
	version := f.id(`SELECT version_id FROM signatures WHERE reference = $1`, ref)
	f.tamper(`UPDATE policy_versions SET body_md = body_md || E'\n\nStaff may share passwords.' WHERE id = $1`, version)
	rec, err := f.st.Load(ctx, f.school, ref)
	if err != nil {
		t.Fatal(err)
	}
	if rec.TextIntact || f.verify(ref).Verified() {
		t.Fatal("a record of a changed text verifies")
	}
	if _, err := f.st.Render(ctx, &bytes.Buffer{}, rec); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("render: %v", err)
	}
	if rep := f.check(); !f.problemAbout(rep, "policy ") {
		t.Fatalf("changed text: %v", rep.Problems)
	}
}

func TestCertificateAndCopies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ref, id := f.firstStaffSignature()
	rec, err := f.st.Load(ctx, f.school, " "+strings.ToLower(ref)+" ")
	if err != nil {
		t.Fatal(err)
	}
	var signer, typed, body, sha, ua, ip string
	var number int
	if err := f.db.Pool.QueryRow(ctx, `SELECT p.given_name || ' ' || p.family_name, s.typed_name, v.body_md, v.sha256, v.number, s.user_agent, s.ip
		FROM signatures s JOIN people p ON p.id = s.person_id JOIN policy_versions v ON v.id = s.version_id WHERE s.id = $1`, id).
		Scan(&signer, &typed, &body, &sha, &number, &ua, &ip); err != nil {
		t.Fatal(err)
	}
	c := rec.Copy
	if rec.Reference != ref || rec.SignatureID != id || !rec.TextIntact || rec.SealState != evidence.SealIntact || c.SchoolName != "Hollybrook Primary School" ||
		c.SignerName != signer || c.TypedSignature != typed || c.SHA256 != sha || policies.Hash(body) != sha || c.VersionNumber != number ||
		c.BodyMarkdown != body || c.Reference != ref || c.SignedAt.IsZero() {
		t.Fatalf("copy: %+v", rec)
	}
	cert := c.Certificate
	if cert == nil || cert.IP != ip || cert.UserAgent != ua || ip == "" || ua == "" || cert.VerifyURL != baseURL+"/verify/"+ref ||
		cert.Method != "Online, in Signoff" || cert.IdentifiedBy == "" || cert.DeviceWithheld {
		t.Fatalf("certificate: %+v", cert)
	}
	if _, err := f.st.Load(ctx, f.school+1, ref); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another school's record: %v", err)
	}
	// Who sees the device.
	if !rec.DeviceShownTo(0, true) || rec.DeviceShownTo(rec.AccountID+1, false) || (rec.AccountID != 0) != rec.DeviceShownTo(rec.AccountID, false) {
		t.Fatalf("device shown: account %d", rec.AccountID)
	}
	withheld := rec.WithoutDevice()
	if withheld.Copy.Certificate.IP != "" || withheld.Copy.Certificate.UserAgent != "" || !withheld.Copy.Certificate.DeviceWithheld ||
		rec.Copy.Certificate.IP != ip {
		t.Fatalf("without device: %+v; original %+v", withheld.Copy.Certificate, rec.Copy.Certificate)
	}

	// A rendered copy is recorded as issued and verifies byte for byte.
	var out bytes.Buffer
	if _, err := f.st.Render(ctx, &out, rec); err != nil {
		t.Fatal(err)
	}
	data := out.Bytes()
	if pdf.ReferenceOf(data) != ref {
		t.Fatalf("the copy names %q", pdf.ReferenceOf(data))
	}
	sum := sha256.Sum256(data)
	if n := f.id(`SELECT count(*) FROM signed_copies WHERE signature_id = $1 AND sha256 = $2`, id, hex.EncodeToString(sum[:])); n != 1 {
		t.Fatalf("issued copies recorded: %d", n)
	}
	res, err := f.st.VerifyPDF(ctx, data)
	if err != nil || !res.Verified() || !res.FileMatches || res.SignerName != signer {
		t.Fatalf("verify the copy: %v %+v", err, res)
	}
	// The copy without the device, rendered now, also verifies (never issued).
	var bare bytes.Buffer
	if err := pdf.WriteSignedCopy(&bare, withheld.Copy); err != nil {
		t.Fatal(err)
	}
	if res, err := f.st.VerifyPDF(ctx, bare.Bytes()); err != nil || !res.Verified() {
		t.Fatalf("verify the copy without the device: %v %+v", err, res)
	}
	// Any other bytes do not.
	changed := bytes.Replace(data, []byte(typed), []byte(strings.ToUpper(typed)), 1)
	if bytes.Equal(changed, data) {
		changed = append(bytes.Clone(data), '\n')
	}
	if res, err := f.st.VerifyPDF(ctx, changed); err != nil || res.Verified() || res.FileMatches {
		t.Fatalf("a changed copy: %v %+v", err, res)
	}
	if res, err := f.st.VerifyPDF(ctx, []byte("%PDF-1.4 not a copy")); err != nil || res.Found || res.Verified() || !res.FileChecked {
		t.Fatalf("not a copy: %v %+v", err, res)
	}
	if res := f.verify("SG-0000-0000-0000"); res.Found || res.Verified() {
		t.Fatalf("unknown reference: %+v", res)
	}
	// A record changed after issue: the issued copy no longer verifies, and
	// no new copy is issued.
	f.tamper(`UPDATE signatures SET signed_at = signed_at - interval '45 days' WHERE id = $1`, id)
	if res, err := f.st.VerifyPDF(ctx, data); err != nil || res.Verified() || res.SealState != evidence.SealChanged {
		t.Fatalf("copy of a changed record: %v %+v", err, res)
	}
	rec, err = f.st.Load(ctx, f.school, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Render(ctx, &bytes.Buffer{}, rec); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("render a changed record: %v", err)
	}
}

// newKey is a fresh installation signing key.
func newKey(t *testing.T, name string) *signkey.Key {
	t.Helper()
	k, err := signkey.Generate(name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignedCopyIsPAdES(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := newKey(t, "Signoff evidence test")
	f.st.Signer = &signkey.PDFSigner{Key: key}
	ref, _ := f.firstStaffSignature()
	var data []byte
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		data, err = f.st.IssueTx(ctx, tx, f.school, ref)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res, err := f.st.VerifyPDF(ctx, data)
	if err != nil || !res.Verified() || !res.Signature.Signed || !res.Signature.Valid || !res.OurKey {
		t.Fatalf("signed copy: %v %+v", err, res)
	}
	// Signed with another key, the same copy is not this installation's.
	otherKey := newKey(t, "Someone else")
	rec, err := f.st.Load(ctx, f.school, ref)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if err := pdf.WriteSignedCopy(&plain, rec.Copy); err != nil {
		t.Fatal(err)
	}
	forged, err := (&signkey.PDFSigner{Key: otherKey}).Sign(ctx, plain.Bytes(), signkey.SignInfo{Name: "Someone else"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := f.st.VerifyPDF(ctx, forged.PDF); err != nil || res.Verified() || res.OurKey {
		t.Fatalf("signed with another key: %v %+v", err, res)
	}
	// A byte changed inside the signed range breaks the signature.
	broken := bytes.Clone(data)
	i := bytes.Index(broken, []byte(ref))
	broken[i+len(ref)+5] ^= 0x01
	if res, err := f.st.VerifyPDF(ctx, broken); err != nil || res.Verified() {
		t.Fatalf("broken signature: %v %+v", err, res)
	}
}

func TestAnchors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := newKey(t, "Signoff evidence test")
	an := &evidence.Anchorer{DB: f.db, Key: key}
	actor := audit.System("test")
	a, created, err := an.Anchor(ctx, f.school, evidence.AnchorOnDemand, actor)
	if err != nil || !created || a.ID == 0 || a.Entries == 0 || a.HeadHash == "" || a.TSAURL != "" {
		t.Fatalf("anchor: %v %v %+v", err, created, a)
	}
	// Hourly, nothing but the anchoring has happened since: no new anchor.
	if _, created, err := an.Anchor(ctx, f.school, evidence.AnchorHourly, actor); err != nil || created {
		t.Fatalf("hourly without change: %v %v", err, created)
	}
	// A school with an empty log has nothing to anchor.
	var empty schools.School
	if err := f.db.InTx(ctx, func(tx pgx.Tx) error {
		empty = schools.School{Slug: "empty", Name: "Empty School"}
		return schools.CreateTx(ctx, tx, &empty)
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := an.Anchor(ctx, empty.ID, evidence.AnchorOnDemand, actor); !errors.Is(err, evidence.ErrNoChain) {
		t.Fatalf("empty chain: %v", err)
	}
	rep, err := evidence.CheckAll(ctx, f.db, key)
	if err != nil || !rep.OK() || rep.Anchors.Anchors != 1 || rep.Anchors.Newest[f.school].ID != a.ID || rep.Anchors.Foreign != 0 {
		t.Fatalf("check: %v %+v", err, rep.Anchors)
	}
	// Checked against another installation's key, the anchor is foreign.
	otherKey := newKey(t, "Someone else")
	if rep, err := evidence.CheckAll(ctx, f.db, otherKey); err != nil || rep.Anchors.Foreign != 1 || len(rep.Anchors.Newest) != 0 {
		t.Fatalf("foreign: %v %+v", err, rep.Anchors)
	}
	// The chain cut back past the anchored head (the anchoring entries with it).
	f.tamper(`DELETE FROM audit_log WHERE school_id = $1 AND id >= $2`, f.school, a.EntryID)
	rep, err = evidence.CheckAll(ctx, f.db, key)
	if err != nil || !f.problemAbout(rep, "anchor ") {
		t.Fatalf("cut chain: %v %v", err, rep.Problems)
	}
	// The anchor itself changed: its signature fails.
	f.tamper(`UPDATE audit_anchors SET entries = entries + 1 WHERE id = $1`, a.ID)
	rep, err = evidence.CheckAll(ctx, f.db, key)
	if err != nil || len(rep.Anchors.Problems) == 0 || !strings.Contains(rep.Anchors.Problems[0].Reason, "signature does not verify") {
		t.Fatalf("changed anchor: %v %v", err, rep.Anchors.Problems)
	}
}

func TestNormalizeReference(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"SG-7K2M-9XQ4-RT3P":      "SG-7K2M-9XQ4-RT3P",
		" sg 7k2m 9xq4 rt3p ":    "SG-7K2M-9XQ4-RT3P",
		"SG7K2M9XQ4RT3P":         "SG-7K2M-9XQ4-RT3P",
		"SG–OOIL–9XQ4–RT3P":      "SG-0011-9XQ4-RT3P",
		"not a reference at all": "N0TAREFERENCEATA11",
	} {
		if got := evidence.NormalizeReference(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestParentsConsentRecord: a parent's consent record prints the form's
// title, the child and each consent question's answer in the form's
// order; its text is the form and its questions as published, so a
// question reworded afterwards (as the database's superuser could) no
// longer verifies, issues no copy, and CheckAll names the form.
func TestParentsConsentRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	form := f.id(`SELECT id FROM forms WHERE title = 'Photo consent'`)
	_, items, err := consent.NewStore(f.db).FormOf(ctx, form)
	if err != nil {
		t.Fatal(err)
	}
	pupil := f.id(`SELECT g.pupil_id FROM guardianships g JOIN people p ON p.id = g.pupil_id
		WHERE g.parental_responsibility AND p.left_at IS NULL ORDER BY g.pupil_id LIMIT 1`)
	parent := f.id(`SELECT parent_id FROM guardianships WHERE pupil_id = $1 AND parental_responsibility ORDER BY priority LIMIT 1`, pupil)
	answers, acks := map[int64]bool{}, map[int64]bool{}
	var want []string
	yes := true
	for _, it := range items {
		if it.Kind != consent.ConsentItem {
			acks[it.ID] = true
			continue
		}
		answers[it.ID] = yes
		want = append(want, it.Label+"="+map[bool]string{true: "Yes", false: "No"}[yes])
		yes = !yes
	}
	if len(want) < 2 {
		t.Fatalf("the demo's photo consent has %d questions", len(want))
	}
	rec, err := consent.NewStore(f.db).Submit(ctx, consent.Submission{SchoolID: f.school, FormID: form, PupilID: pupil, ParentID: parent,
		Answers: answers, Acks: acks, TypedName: "Samira Walsh", Actor: audit.Actor{Name: "Samira Walsh", IP: "203.0.113.5"}, UserAgent: "Mozilla/5.0 (parent)"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := f.st.Load(ctx, f.school, rec.Reference)
	if err != nil {
		t.Fatal(err)
	}
	p, err := people.NewStore(f.db).Get(ctx, f.school, pupil)
	if err != nil || p.YearGroup == nil {
		t.Fatalf("pupil: %v %+v", err, p)
	}
	child := p.FullName() + ", " + p.YearGroup.Label() + " (" + p.RegClass + ")"
	cert := loaded.Copy.Certificate
	var got []string
	for _, a := range cert.Answers {
		got = append(got, a.Item+"="+a.Value)
	}
	if !loaded.TextIntact || loaded.SealState != evidence.SealIntact || loaded.Copy.PolicyTitle != "Photo consent" || loaded.VersionID != 0 ||
		cert.ForChild != child || strings.Join(got, "; ") != strings.Join(want, "; ") ||
		cert.IP != "203.0.113.5" || cert.UserAgent != "Mozilla/5.0 (parent)" || loaded.Copy.TypedSignature != "Samira Walsh" {
		t.Fatalf("consent record: %+v\ncertificate %+v\nanswers %v, want %v", loaded, cert, got, want)
	}
	if res := f.verify(rec.Reference); !res.Verified() {
		t.Fatalf("verify: %+v", res)
	}
	f.tamper(`UPDATE form_items SET label = label || ' and on posters' WHERE id = $1`, items[0].ID)
	loaded, err = f.st.Load(ctx, f.school, rec.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.TextIntact || f.verify(rec.Reference).Verified() {
		t.Fatal("a record of a reworded form verifies")
	}
	if _, err := f.st.Render(ctx, &bytes.Buffer{}, loaded); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("render: %v", err)
	}
	if rep := f.check(); !f.problemAbout(rep, fmt.Sprintf("form %d", form)) {
		t.Fatalf("check: %v", rep.Problems)
	}
}
