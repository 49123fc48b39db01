package auth_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"signoff/internal/auth"
	"signoff/internal/database/dbtest"
)

// TestMembers: who is a member of a school (enabled, a role that works
// there), read alike by Members, MembersTx and IsMemberTx; a parent's
// account and a disabled one are not members.
func TestMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var parent, gone auth.Account
	f.tx(func(tx pgx.Tx) error {
		parent = auth.Account{SchoolID: f.school, Email: "parent@home.example", DisplayName: "Priya Shah", Roles: []auth.Role{auth.Parent}}
		if err := auth.CreateAccountTx(ctx, tx, &parent, ""); err != nil {
			return err
		}
		gone = auth.Account{SchoolID: f.school, Email: "gone@school.example", DisplayName: "Alan Gone", Roles: []auth.Role{auth.Governor}}
		return auth.CreateAccountTx(ctx, tx, &gone, "")
	})
	f.exec(`UPDATE accounts SET disabled_at = now() WHERE id = $1`, gone.ID)
	members, err := f.st.Members(ctx, f.school)
	if err != nil {
		t.Fatal(err)
	}
	// By name: Daniel Okafor, Karen Holloway.
	if len(members) != 2 || members[0].AccountID != f.staff.ID || members[1].AccountID != f.admin.ID || !members[1].Has(auth.Admin) ||
		members[1].Email != adminEmail {
		t.Fatalf("members = %+v", members)
	}
	f.tx(func(tx pgx.Tx) error {
		inTx, err := auth.MembersTx(ctx, tx, f.school)
		if err != nil || len(inTx) != len(members) {
			t.Errorf("MembersTx = %+v, %v", inTx, err)
		}
		for id, want := range map[int64]bool{f.staff.ID: true, f.admin.ID: true, parent.ID: false, gone.ID: false} {
			if ok, err := auth.IsMemberTx(ctx, tx, f.school, id); err != nil || ok != want {
				t.Errorf("IsMemberTx(%d) = %v, %v; want %v", id, ok, err, want)
			}
		}
		if ok, _ := auth.IsMemberTx(ctx, tx, f.school+1, f.admin.ID); ok {
			t.Error("a member of another school")
		}
		return nil
	})
}

// TestNameSQL: the name and address fragments other packages' statements
// embed read the account, and empty text for none.
func TestNameSQL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	name := dbtest.Scalar[string](t, f.db, `SELECT `+auth.NameSQL("$1::bigint")+` || '|' || `+auth.EmailSQL("$1::bigint"), f.admin.ID)
	if name != "Karen Holloway|"+adminEmail {
		t.Errorf("NameSQL, EmailSQL = %q", name)
	}
	if none := dbtest.Scalar[string](t, f.db, `SELECT `+auth.NameSQL("NULL::bigint")+` || `+auth.EmailSQL("NULL::bigint")); none != "" {
		t.Errorf("no account: %q", none)
	}
}
