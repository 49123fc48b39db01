package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/codes"
	"signoff/internal/database"
	"signoff/internal/ratelimit"
)

// Purposes of an access link.
const (
	PurposeSignIn = "sign_in" // single use, minutes: a member of staff's sign-in by email
	PurposeFamily = "family"  // reusable for the school's period: a parent's way in
)

// SignInLinkLifetime is how long an emailed sign-in link works.
const SignInLinkLifetime = 20 * time.Minute

// The rate limits on signing in and asking for links.
var (
	LimitSignInByAddress = ratelimit.Rule{Name: "sign-in-address", Max: 10, Window: 15 * time.Minute}
	LimitSignInByIP      = ratelimit.Rule{Name: "sign-in-ip", Max: 60, Window: 15 * time.Minute}
	LimitLinkByAddress   = ratelimit.Rule{Name: "link-address", Max: 5, Window: time.Hour}
	LimitLinkByIP        = ratelimit.Rule{Name: "link-ip", Max: 30, Window: time.Hour}
	LimitLinkUseByIP     = ratelimit.Rule{Name: "link-use-ip", Max: 60, Window: 15 * time.Minute}
)

// Deliver is called inside the transaction that creates a link, to queue
// the message that carries it (so both commit or neither does).
type Deliver func(ctx context.Context, tx pgx.Tx, a Account, token string) error

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newLongToken is 256 random bits for links sent by email.
func newLongToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// newFamilyToken is 80 random bits written as 16 characters in groups of
// four (ABCD-EFGH-JKMN-PQRS), short enough to type from a printed letter.
func newFamilyToken() (string, error) {
	token, err := codes.New("", 16)
	if err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	return token, nil
}

// NormaliseFamilyToken reads a family code as a parent might type it:
// any case, spaces or no dashes, O for 0 and I or L for 1.
func NormaliseFamilyToken(s string) string { return codes.Normalise("", s, 16) }

// RequestSignInLink emails a single-use sign-in link to the account with
// email, if there is one that may use links (not administrators: they
// sign in with their password). The answer is the same whether or not the
// address is known; only rate limits refuse.
func (s *Store) RequestSignInLink(ctx context.Context, email, ip string, deliver Deliver) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || !strings.Contains(email, "@") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "link_email", Message: "Enter your email address, like name@example.org"}}}
	}
	if err := s.limits.Allow(ctx, LimitLinkByAddress, email); err != nil {
		return err
	}
	if err := s.limits.Allow(ctx, LimitLinkByIP, ip); err != nil {
		return err
	}
	a, err := scanAccount(s.db.Pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.email = $1 AND a.disabled_at IS NULL`, email))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: request link: %w", err)
	}
	if a.Has(Admin) || (!a.Has(Staff) && !a.Has(Governor) && !a.Has(Head)) {
		return nil
	}
	// Staff whose school requires its single sign-on get no link (the
	// page after asking tells everyone that such schools sign in that way).
	if msg, err := s.ssoRequired(ctx, a); err != nil {
		return err
	} else if msg != "" {
		return nil
	}
	token, err := newLongToken()
	if err != nil {
		return err
	}
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO access_links (token_hash, school_id, account_id, purpose, created_at, expires_at)
			VALUES ($1, $2, $3, 'sign_in', $4, $5)`, hashToken(token), a.SchoolID, a.ID, now, now.Add(SignInLinkLifetime)); err != nil {
			return fmt.Errorf("auth: create link: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: a.SchoolID, At: now, Actor: audit.Actor{Name: "sign-in link request", IP: ip},
			Action: "account.link_sent", Subject: fmt.Sprintf("account %d", a.ID)}); err != nil {
			return err
		}
		return deliver(ctx, tx, a, token)
	})
}

var errBadLink = apperr.New(apperr.Unauthenticated, "This sign-in link has expired or has already been used. Ask for a new one below.")

// PeekSignInLink returns the account a sign-in link would sign in, without
// using it (the link's page asks the person to press a button, so that a
// mail scanner opening the link does not use it up).
func (s *Store) PeekSignInLink(ctx context.Context, token string) (Account, error) {
	return s.peekLink(ctx, token, "sign_in", errBadLink)
}

// peekLink returns the account an unused, unexpired link of the purpose
// is for, or bad when there is none.
func (s *Store) peekLink(ctx context.Context, token, purpose string, bad error) (Account, error) {
	a, err := scanAccount(s.db.Pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM access_links l JOIN accounts a ON a.id = l.account_id`+accountPeople+`
		WHERE l.token_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > $3
		  AND a.disabled_at IS NULL`, hashToken(token), purpose, s.db.Now()))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, bad
	}
	if err != nil {
		return Account{}, fmt.Errorf("auth: peek %s link: %w", purpose, err)
	}
	return a, nil
}

// UseSignInLink uses a sign-in link once and opens a session.
func (s *Store) UseSignInLink(ctx context.Context, token, ip, userAgent string) (Account, string, error) {
	if err := s.limits.Allow(ctx, LimitLinkUseByIP, ip); err != nil {
		return Account{}, "", err
	}
	return s.useLink(ctx, token, PurposeSignIn, ip, userAgent)
}

// UseFamilyLink opens a session for the parent whose family link this is.
// Family links can be used again until they expire or are revoked.
func (s *Store) UseFamilyLink(ctx context.Context, token, ip, userAgent string) (Account, string, error) {
	if err := s.limits.Allow(ctx, LimitLinkUseByIP, ip); err != nil {
		return Account{}, "", err
	}
	return s.useLink(ctx, NormaliseFamilyToken(token), PurposeFamily, ip, userAgent)
}

func (s *Store) useLink(ctx context.Context, token, purpose, ip, userAgent string) (Account, string, error) {
	now := s.db.Now()
	var a Account
	var session string
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var accountID int64
		q := `UPDATE access_links SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND revoked_at IS NULL AND expires_at > $3`
		if purpose == PurposeSignIn {
			q += ` AND used_at IS NULL`
		}
		err := tx.QueryRow(ctx, q+` RETURNING account_id`, hashToken(token), purpose, now).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			if purpose == PurposeFamily {
				return apperr.New(apperr.Unauthenticated, "This link no longer works: it has expired or the school has replaced it. Ask for a new one below, or contact the school office.")
			}
			return errBadLink
		}
		if err != nil {
			return fmt.Errorf("auth: use link: %w", err)
		}
		a, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.id = $1 AND a.disabled_at IS NULL`, accountID))
		if errors.Is(err, pgx.ErrNoRows) {
			return errBadLink
		}
		if err != nil {
			return fmt.Errorf("auth: use link: %w", err)
		}
		via := Via{Method: "sign-in link to their address", IdentifiedBy: "Signed in with a single-use link emailed to their address (" + a.Email + ")", IP: ip, UserAgent: userAgent}
		if purpose == PurposeFamily {
			via = Via{Method: "family link", IdentifiedBy: "Opened their family link, sent to them by the school", IP: ip, UserAgent: userAgent,
				Link: hashToken(token)}
		} else if msg, err := s.ssoRequired(ctx, a); err != nil {
			return err
		} else if msg != "" {
			return apperr.New(apperr.Unauthenticated, "%s", msg)
		}
		session, err = s.SignInTx(ctx, tx, a, via)
		return err
	})
	if err != nil {
		return Account{}, "", err
	}
	return a, session, nil
}

// FamilyLink is a parent's current way in.
type FamilyLink struct {
	Token     string // only when just issued; never stored
	CreatedAt time.Time
	ExpiresAt time.Time
	LastUsed  *time.Time
}

// IssueFamilyLink gives a parent a new family link, replacing (revoking)
// any earlier one and ending the sessions opened with it, creating the
// parent's account when they have none. The link lasts the school's
// family-link period. deliver, when not nil, queues the email carrying it
// in the same transaction.
func (s *Store) IssueFamilyLink(ctx context.Context, schoolID, parentID int64, actor audit.Actor, deliver Deliver) (FamilyLink, error) {
	return s.issueFamilyLink(ctx, schoolID, parentID, actor, deliver, true)
}

// issueFamilyLink makes a new family link; with replace, the parent's
// earlier links stop working and their sessions end.
func (s *Store) issueFamilyLink(ctx context.Context, schoolID, parentID int64, actor audit.Actor, deliver Deliver, replace bool) (FamilyLink, error) {
	token, err := newFamilyToken()
	if err != nil {
		return FamilyLink{}, err
	}
	now := s.db.Now()
	link := FamilyLink{Token: token, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		a, err := s.parentAccountTx(ctx, tx, schoolID, parentID)
		if err != nil {
			return err
		}
		var days int
		if err := tx.QueryRow(ctx, `SELECT family_link_days FROM schools WHERE id = $1`, schoolID).Scan(&days); err != nil {
			return fmt.Errorf("auth: family link period: %w", err)
		}
		link.ExpiresAt = now.AddDate(0, 0, days)
		if replace {
			if err := revokeFamilyLinksTx(ctx, tx, a.ID, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO access_links (token_hash, school_id, account_id, purpose, created_at, expires_at, created_by)
			VALUES ($1, $2, $3, 'family', $4, $5, $6)`, hashToken(token), schoolID, a.ID, now, link.ExpiresAt, database.NullID(actor.AccountID)); err != nil {
			return fmt.Errorf("auth: create family link: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "family_link.issued",
			Subject: fmt.Sprintf("parent %d", parentID), Detail: map[string]string{"expires": link.ExpiresAt.Format(time.DateOnly)}}); err != nil {
			return err
		}
		if deliver != nil {
			return deliver(ctx, tx, a, token)
		}
		return nil
	})
	if err != nil {
		return FamilyLink{}, err
	}
	return link, nil
}

// parentAccountTx returns the account of parent parentID, creating it
// (role parent, the parent's email if any) when there is none.
func (s *Store) parentAccountTx(ctx context.Context, tx pgx.Tx, schoolID, parentID int64) (Account, error) {
	var accountID *int64
	var given, family, email string
	err := tx.QueryRow(ctx, `SELECT account_id, given_name, family_name, coalesce(email, '') FROM people
		WHERE school_id = $1 AND id = $2 AND kind = 'parent' AND left_at IS NULL FOR UPDATE`, schoolID, parentID).Scan(&accountID, &given, &family, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, apperr.New(apperr.NotFound, "There is no such parent or carer")
	}
	if err != nil {
		return Account{}, fmt.Errorf("auth: parent: %w", err)
	}
	if accountID != nil {
		a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.id = $1`, *accountID))
		if err != nil {
			return Account{}, fmt.Errorf("auth: parent account: %w", err)
		}
		if !a.Has(Parent) {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET roles = array_append(roles, 'parent') WHERE id = $1`, a.ID); err != nil {
				return Account{}, fmt.Errorf("auth: add parent role: %w", err)
			}
			a.Roles = append(a.Roles, Parent)
		}
		return a, nil
	}
	// The same address may already have an account (a member of staff who
	// is also a parent): the parent record joins it.
	if email != "" {
		a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a`+accountPeople+` WHERE a.email = $1`, email))
		if err == nil && a.SchoolID != schoolID {
			// The address signs in at another school of the trust: this
			// school's parent account goes without it (links still reach
			// the parent's address).
			email = ""
		} else if err == nil {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET roles = CASE WHEN 'parent' = ANY (roles) THEN roles ELSE array_append(roles, 'parent') END WHERE id = $1`, a.ID); err != nil {
				return Account{}, fmt.Errorf("auth: add parent role: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE people SET account_id = $1 WHERE id = $2`, a.ID, parentID); err != nil {
				return Account{}, fmt.Errorf("auth: link parent: %w", err)
			}
			a.ParentID = parentID
			if !a.Has(Parent) {
				a.Roles = append(a.Roles, Parent)
			}
			return a, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Account{}, fmt.Errorf("auth: parent account by email: %w", err)
		}
	}
	a := Account{SchoolID: schoolID, ParentID: parentID, Email: email, DisplayName: strings.TrimSpace(given + " " + family), Roles: []Role{Parent}}
	if err := CreateAccountTx(ctx, tx, &a, ""); err != nil {
		return Account{}, err
	}
	return a, nil
}

// CurrentFamilyLink describes a parent's live family link, if any.
func (s *Store) CurrentFamilyLink(ctx context.Context, schoolID, parentID int64) (FamilyLink, bool, error) {
	var l FamilyLink
	err := s.db.Pool.QueryRow(ctx, `SELECT l.created_at, l.expires_at, l.used_at FROM access_links l
		JOIN people p ON p.account_id = l.account_id
		WHERE p.school_id = $1 AND p.id = $2 AND l.purpose = 'family' AND l.revoked_at IS NULL AND l.expires_at > $3
		ORDER BY l.created_at DESC LIMIT 1`, schoolID, parentID, s.db.Now()).Scan(&l.CreatedAt, &l.ExpiresAt, &l.LastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return FamilyLink{}, false, nil
	}
	if err != nil {
		return FamilyLink{}, false, fmt.Errorf("auth: family link: %w", err)
	}
	return l, true, nil
}

// RevokeFamilyLinks stops a parent's family links working, and ends the
// sessions opened with them.
func (s *Store) RevokeFamilyLinks(ctx context.Context, schoolID, parentID int64, actor audit.Actor) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var accountID *int64
		err := tx.QueryRow(ctx, `SELECT account_id FROM people WHERE school_id = $1 AND id = $2 AND kind = 'parent'`, schoolID, parentID).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "There is no such parent or carer")
		}
		if err != nil {
			return fmt.Errorf("auth: revoke: %w", err)
		}
		if accountID == nil {
			return nil
		}
		if err := revokeFamilyLinksTx(ctx, tx, *accountID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: now, Actor: actor, Action: "family_link.revoked",
			Subject: fmt.Sprintf("parent %d", parentID)})
	})
}

// revokeFamilyLinksTx stops an account's family links working and ends
// the sessions opened with them. A parent-only account loses all its
// sessions (it has no other way in); an account that is also staff keeps
// those it opened another way (password, sign-in link).
func revokeFamilyLinksTx(ctx context.Context, tx pgx.Tx, accountID int64, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE access_links SET revoked_at = $2 WHERE account_id = $1 AND purpose = 'family' AND revoked_at IS NULL`, accountID, now); err != nil {
		return fmt.Errorf("auth: revoke family links: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions s USING accounts a WHERE s.account_id = a.id AND a.id = $1
		AND (s.via_link IS NOT NULL OR a.roles = '{parent}')`, accountID); err != nil {
		return fmt.Errorf("auth: end family link sessions: %w", err)
	}
	return nil
}

// RequestFamilyLink sends a new family link to a parent who asks for one
// with the email address the school holds for them. The answer is the
// same whether or not the address is known. The link the family already
// holds (on a letter, say) keeps working: anyone can ask, so asking must
// not take a family's way in away; the new link goes alongside it.
func (s *Store) RequestFamilyLink(ctx context.Context, email, ip string, deliver Deliver) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || !strings.Contains(email, "@") {
		return &apperr.Error{Code: apperr.Invalid, Fields: []apperr.FieldError{{Field: "email", Message: "Enter your email address, like name@example.org"}}}
	}
	if err := s.limits.Allow(ctx, LimitLinkByAddress, email); err != nil {
		return err
	}
	if err := s.limits.Allow(ctx, LimitLinkByIP, ip); err != nil {
		return err
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT school_id, id FROM people WHERE kind = 'parent' AND email = $1 AND left_at IS NULL
		AND EXISTS (SELECT 1 FROM guardianships g JOIN people c ON c.id = g.pupil_id WHERE g.parent_id = people.id AND c.left_at IS NULL)`, email)
	if err != nil {
		return fmt.Errorf("auth: request family link: %w", err)
	}
	type parent struct{ school, id int64 }
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parent, error) {
		var p parent
		return p, r.Scan(&p.school, &p.id)
	})
	if err != nil {
		return fmt.Errorf("auth: request family link: %w", err)
	}
	for _, p := range found {
		if _, err := s.issueFamilyLink(ctx, p.school, p.id, audit.Actor{Name: "family link request", IP: ip}, deliver, false); err != nil {
			return err
		}
	}
	return nil
}
