// Package auth holds accounts, their passwords and their sessions.
//
// Passwords are hashed with argon2id. A session is a random token: the
// browser's cookie holds the token, the database holds only its SHA-256,
// so ending a session on the server (sign-out, time-out) makes a copied
// cookie useless.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/database"
	"signoff/internal/limits"
	"signoff/internal/ratelimit"
	"signoff/internal/schools"
)

// Role is what an account may do.
type Role string

// The roles.
const (
	Admin    Role = "admin"    // business manager, office
	Head     Role = "head"     // headteacher, policy owner
	Governor Role = "governor" // approves policy revisions
	Staff    Role = "staff"    // signs staff agreements
	Parent   Role = "parent"   // signs for their children
	// TrustAdmin sees every school of the trust side by side.
	TrustAdmin Role = "trust_admin"
)

// Label is the role as shown to people.
func (r Role) Label() string {
	switch r {
	case Admin:
		return "Administrator"
	case Head:
		return "Headteacher"
	case Governor:
		return "Governor"
	case Staff:
		return "Staff"
	case Parent:
		return "Parent or carer"
	case TrustAdmin:
		return "Trust administrator"
	}
	return string(r)
}

// Account is a sign-in.
type Account struct {
	ID          int64
	SchoolID    int64
	PersonID    int64  // the staff record of this account, 0 if none
	ParentID    int64  // the parent/carer record of this account, 0 if none
	StaffRole   string // the staff record's role while they have not left ("teacher"), else ""
	Email       string
	DisplayName string
	Roles       []Role
	// Session describes the session the account was read from (only set
	// by SessionAccount).
	Session SessionInfo
}

// SessionInfo is how a session's holder was identified.
type SessionInfo struct {
	// IdentifiedBy says how, in words the certificate page prints:
	// "Signed in with their password (a@b)", "Microsoft 365 account a@b, tenant …".
	IdentifiedBy string
	// SSOSchoolID is the school whose single sign-on opened the session, 0 if none.
	SSOSchoolID int64
	// Snapshot is pg_current_snapshot() of the statement that read the
	// session: which transactions had committed when the request began
	// (the web's page cache compares it with the one a kept page was
	// built after).
	Snapshot string
	// TokenHash is the SHA-256 of the session's token, as stored (the
	// page cache's key, so that the token is hashed once per request).
	TokenHash [32]byte
}

// Via is how a sign-in identified the account, for SignInTx.
type Via struct {
	Method       string // the audit log's method: "password", "single sign-on", ...
	IdentifiedBy string
	SSOSchoolID  int64
	IP           string
	UserAgent    string
	// Link is the SHA-256 of the family link the session was opened with, if any.
	Link []byte
}

// Has reports whether the account holds role r.
func (a Account) Has(r Role) bool { return slices.Contains(a.Roles, r) }

// Actor is the account as the audit log names it.
func (a Account) Actor(ip string) audit.Actor {
	name := a.DisplayName
	if a.Email != "" {
		name += " <" + a.Email + ">"
	}
	return audit.Actor{AccountID: a.ID, Name: name, IP: ip}
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// Store reads and writes accounts and sessions.
type Store struct {
	db     *database.DB
	limits *ratelimit.Limiter
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in, used or not.
	AbsoluteTimeout time.Duration
	// RequireSSO, when set, says whether an account must sign in with its
	// school's single sign-on: it returns the message that tells them how
	// ("" when passwords and emailed links are allowed).
	RequireSSO func(ctx context.Context, a Account) (string, error)
	// Marked, when set, is told the transaction id of each session's
	// once-a-minute mark of its last use, after it committed: a
	// transaction that wrote nothing but sessions.last_seen_at.
	Marked func(xid uint64)
}

// ssoRequired asks RequireSSO about a.
func (s *Store) ssoRequired(ctx context.Context, a Account) (string, error) {
	if s.RequireSSO == nil {
		return "", nil
	}
	return s.RequireSSO(ctx, a)
}

// NewStore returns a Store with a 2-hour idle and a 12-hour absolute time-out.
func NewStore(db *database.DB) *Store {
	return &Store{db: db, limits: ratelimit.New(db), IdleTimeout: 2 * time.Hour, AbsoluteTimeout: 12 * time.Hour}
}

// Validate checks an account before it is created.
func (a *Account) Validate() error {
	var v apperr.Validation
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	v.Check(a.Email == "" || (strings.Contains(a.Email, "@") && len(a.Email) <= 254), "email", "Enter an email address in the right format, like name@example.org")
	v.Check(a.DisplayName != "", "display_name", "Enter a name")
	v.MaxLen("display_name", a.DisplayName, limits.Name, "name")
	v.Check(len(a.Roles) > 0, "roles", "Choose at least one role")
	return v.Err()
}

// CreateAccountTx inserts a inside tx, with password when it is not empty.
func CreateAccountTx(ctx context.Context, tx pgx.Tx, a *Account, password string) error {
	if err := a.Validate(); err != nil {
		return err
	}
	var hash *string
	if password != "" {
		if len(password) < MinPasswordLength {
			return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "password",
				Message: fmt.Sprintf("The password must be at least %d characters long", MinPasswordLength)}}}
		}
		h, err := HashPassword(password)
		if err != nil {
			return err
		}
		hash = &h
	}
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		roles[i] = string(r)
	}
	var email *string
	if a.Email != "" {
		email = &a.Email
	}
	err := tx.QueryRow(ctx, `INSERT INTO accounts (school_id, email, display_name, password_hash, roles)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, a.SchoolID, email, a.DisplayName, hash, roles).Scan(&a.ID)
	if database.IsUniqueViolation(err, "accounts_email") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email", Message: "An account with this email address already exists"}}}
	}
	if err != nil {
		return fmt.Errorf("auth: create account: %w", err)
	}
	for _, id := range []int64{a.PersonID, a.ParentID} {
		if id == 0 {
			continue
		}
		tag, err := tx.Exec(ctx, `UPDATE people SET account_id = $1 WHERE school_id = $2 AND id = $3`, a.ID, a.SchoolID, id)
		if err != nil {
			return fmt.Errorf("auth: link account to person: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("auth: link account to person %d: no such person in school %d", id, a.SchoolID)
		}
	}
	return nil
}

const accountColumns = `a.id, a.school_id, coalesce(ap.staff_id, 0), coalesce(ap.parent_id, 0), coalesce(ap.staff_role, ''),
	coalesce(a.email, ''), a.display_name, a.roles::text[]`

// accountPeople follows "accounts a" wherever accountColumns are read:
// the account's people in one lookup (issue 15: the session's statement,
// run by every signed-in request, read them with three subqueries). The
// staff and parent records are the first of each kind (the lowest id),
// the staff role that of the first staff record still here.
const accountPeople = ` CROSS JOIN LATERAL (SELECT min(pp.id) FILTER (WHERE pp.kind = 'staff') AS staff_id,
	min(pp.id) FILTER (WHERE pp.kind = 'parent') AS parent_id,
	(array_agg(pp.staff_role ORDER BY pp.id) FILTER (WHERE pp.kind = 'staff' AND pp.left_at IS NULL))[1] AS staff_role
	FROM people pp WHERE pp.account_id = a.id) ap`

func scanAccount(r pgx.Row, extra ...any) (Account, error) {
	var a Account
	var roles []string
	dest := append([]any{&a.ID, &a.SchoolID, &a.PersonID, &a.ParentID, &a.StaffRole, &a.Email, &a.DisplayName, &roles}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Account{}, err
	}
	for _, r := range roles {
		a.Roles = append(a.Roles, Role(r))
	}
	return a, nil
}

// errBadSignIn is the one answer to any failed sign-in, so that it does
// not reveal whether the address is known.
var errBadSignIn = &apperr.Error{Code: apperr.Unauthenticated, Message: "The email address or password is not right",
	Fields: []apperr.FieldError{{Field: "email", Message: "The email address or password is not right"}}}

// SignIn checks the password of the account with email and, when it is
// right, opens a session and returns its token. One transaction, audited.
func (s *Store) SignIn(ctx context.Context, email, password, ip, userAgent string) (Account, string, error) {
	var v apperr.Validation
	email = strings.ToLower(strings.TrimSpace(email))
	v.Check(email != "", "email", "Enter your email address")
	v.Check(password != "", "password", "Enter your password")
	if err := v.Err(); err != nil {
		return Account{}, "", err
	}
	// Failed attempts count against the address and the IP. Each attempt
	// is counted as a failure before the password is checked (so many at
	// once cannot all be checked) and taken back when it is right; once
	// the limit is reached even the right password waits until the
	// window has passed since the last failure.
	byAddress, err := s.limits.Begin(ctx, LimitSignInByAddress, email)
	if err != nil {
		return Account{}, "", err
	}
	byIP, err := s.limits.Begin(ctx, LimitSignInByIP, ip)
	if err != nil {
		_ = byAddress.Succeeded(context.WithoutCancel(ctx))
		return Account{}, "", err
	}
	failed := func() (Account, string, error) {
		return Account{}, "", errBadSignIn
	}
	var hash *string
	a, err := scanAccount(s.db.Pool.QueryRow(ctx, `SELECT `+accountColumns+`, a.password_hash FROM accounts a`+accountPeople+`
		WHERE a.email = $1 AND a.disabled_at IS NULL`, email), &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Account{}, "", fmt.Errorf("auth: sign in: %w", err)
	}
	if errors.Is(err, pgx.ErrNoRows) || hash == nil {
		if _, err := checkPassword(password, dummyHash); err != nil {
			return Account{}, "", s.notChecked(ctx, err, byAddress, byIP)
		}
		return failed()
	}
	ok, err := checkPassword(password, *hash)
	if apperr.CodeOf(err) == apperr.Busy {
		return Account{}, "", s.notChecked(ctx, err, byAddress, byIP)
	}
	if err != nil {
		return Account{}, "", fmt.Errorf("auth: check password: %w", err)
	}
	if !ok {
		return failed()
	}
	_ = byAddress.Succeeded(ctx)
	_ = byIP.Succeeded(ctx)
	// Only once the password is right does the answer say that this
	// account signs in with its school's provider (so it reveals nothing
	// to someone guessing addresses).
	if msg, err := s.ssoRequired(ctx, a); err != nil {
		return Account{}, "", err
	} else if msg != "" {
		return Account{}, "", &apperr.Error{Code: apperr.Unauthenticated, Message: msg, Fields: []apperr.FieldError{{Field: "email", Message: msg}}}
	}
	var token string
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		token, err = s.SignInTx(ctx, tx, a, Via{Method: "password", IdentifiedBy: "Signed in with their password (" + a.Email + ")", IP: ip, UserAgent: userAgent})
		return err
	})
	if err != nil {
		return Account{}, "", err
	}
	return a, token, nil
}

// SignInTx opens a session for a, identified as via says, inside tx, and
// records the sign-in in the audit log. It returns the session's token.
func (s *Store) SignInTx(ctx context.Context, tx pgx.Tx, a Account, via Via) (string, error) {
	token, err := s.createSessionTx(ctx, tx, a.ID, via)
	if err != nil {
		return "", err
	}
	detail := map[string]string{"method": via.Method}
	if via.IdentifiedBy != "" {
		detail["identified_by"] = via.IdentifiedBy
	}
	if err := audit.Record(ctx, tx, audit.Entry{SchoolID: a.SchoolID, At: s.db.Now(), Actor: a.Actor(via.IP),
		Action: "account.signed_in", Subject: fmt.Sprintf("account %d", a.ID), Detail: detail}); err != nil {
		return "", err
	}
	return token, nil
}

// AccountTx reads an active account inside tx.
func AccountTx(ctx context.Context, tx pgx.Tx, id int64) (Account, error) {
	a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.id = $1 AND a.disabled_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, apperr.New(apperr.NotFound, "There is no such account")
	}
	if err != nil {
		return Account{}, fmt.Errorf("auth: account: %w", err)
	}
	return a, nil
}

func (s *Store) createSessionTx(ctx context.Context, tx pgx.Tx, accountID int64, via Via) (string, error) {
	ip, userAgent := via.IP, via.UserAgent
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.db.Now()
	sum := sha256.Sum256([]byte(token))
	userAgent = limits.Clip(userAgent, limits.UserAgent)
	_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent, via_link, identified_by, sso_school_id)
		VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)`, sum[:], accountID, now, now.Add(s.AbsoluteTimeout), limits.Clip(ip, 100), userAgent, via.Link,
		limits.Clip(via.IdentifiedBy, limits.IdentifiedBy), database.NullID(via.SSOSchoolID))
	if err != nil {
		return "", fmt.Errorf("auth: create session: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET last_signed_in_at = $2 WHERE id = $1`, accountID, now); err != nil {
		return "", fmt.Errorf("auth: note sign-in: %w", err)
	}
	return token, nil
}

// SessionAccount returns the account of a live session and marks the
// session used. An expired, idle or unknown session is Unauthenticated.
func (s *Store) SessionAccount(ctx context.Context, token string) (Account, error) {
	a, _, err := s.Session(ctx, token)
	return a, err
}

// Session returns the account of a live session and the account's
// school, read in one statement (every request of a signed-in visitor
// runs it, so it is one round trip, and the school is always as it is
// now: a settings change shows at once on every server). The session is
// marked used at most once a minute (an UPDATE; the idle time-out counts
// from the last mark), so most requests only read. The same statement
// returns the database's snapshot (Account.Session.Snapshot). An expired,
// idle or unknown session is Unauthenticated.
func (s *Store) Session(ctx context.Context, token string) (Account, schools.School, error) {
	var sc schools.School
	if token == "" {
		return Account{}, sc, apperr.New(apperr.Unauthenticated, "Sign in to continue")
	}
	sum := sha256.Sum256([]byte(token))
	now := s.db.Now()
	var lastSeen time.Time
	var info SessionInfo
	dest := append([]any{&lastSeen, &info.IdentifiedBy, &info.SSOSchoolID, &info.Snapshot}, sc.ScanDest()...)
	// A lookup by the token's hash: its generic plan from the first run on
	// each connection (database.Reads.GenericPlans), in the same round trip.
	var a Account
	var r database.Reads
	r.GenericPlans()
	r.Row(sessionSQL, []any{sum[:], now, now.Add(-s.IdleTimeout)}, func(row pgx.Row) (err error) {
		a, err = scanAccount(row, dest...)
		return err
	})
	err := s.db.Send(ctx, &r)
	info.TokenHash = sum
	a.Session = info
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, schools.School{}, apperr.New(apperr.Unauthenticated, "Your session has ended. Sign in again to continue")
	}
	if err != nil {
		return Account{}, schools.School{}, fmt.Errorf("auth: session: %w", err)
	}
	if now.Sub(lastSeen) > touchEvery {
		var xid uint64
		err := s.db.Pool.QueryRow(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 RETURNING pg_current_xact_id()::text::bigint`, sum[:], now).Scan(&xid)
		switch {
		case err == nil && s.Marked != nil:
			s.Marked(xid)
		case err != nil && !errors.Is(err, pgx.ErrNoRows): // ended meanwhile: this request goes on as it began
			return Account{}, schools.School{}, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return a, sc, nil
}

// sessionSQL is Session's statement.
const sessionSQL = `SELECT ` + accountColumns + `, ss.last_seen_at, ss.identified_by, coalesce(ss.sso_school_id, 0),
	pg_current_snapshot()::text, ` + schools.Columns + `
	FROM sessions ss JOIN accounts a ON a.id = ss.account_id` + accountPeople + `
	JOIN schools s ON s.id = a.school_id` + schools.LogoJoin + `
	WHERE ss.token_hash = $1 AND ss.expires_at > $2 AND ss.last_seen_at > $3 AND a.disabled_at IS NULL`

// touchEvery is how often at most a session's last use is written.
const touchEvery = time.Minute

// SignOut ends the session with token on the server.
func (s *Store) SignOut(ctx context.Context, token, ip string) error {
	sum := sha256.Sum256([]byte(token))
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx, `DELETE FROM sessions s USING accounts a`+accountPeople+`
			WHERE s.token_hash = $1 AND a.id = s.account_id RETURNING `+accountColumns, sum[:]))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("auth: sign out: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: a.SchoolID, At: s.db.Now(), Actor: a.Actor(ip),
			Action: "account.signed_out", Subject: fmt.Sprintf("account %d", a.ID)})
	})
}

// Get returns an account of a school.
func (s *Store) Get(ctx context.Context, schoolID, id int64) (Account, error) {
	a, err := scanAccount(s.db.Pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.school_id = $1 AND a.id = $2`, schoolID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, apperr.New(apperr.NotFound, "There is no such account")
	}
	if err != nil {
		return Account{}, fmt.Errorf("auth: get account: %w", err)
	}
	return a, nil
}
