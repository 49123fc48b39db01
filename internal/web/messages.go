package web

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"signoff/internal/auth"
	"signoff/internal/mail"
	"signoff/internal/onboarding"
)

// link makes an absolute address on this site for emails and letters.
func (s *Server) link(path string) string { return s.baseURL + path }

// schoolName returns the name of a school for an email.
func (s *Server) schoolName(ctx context.Context, tx pgx.Tx, schoolID int64) string {
	var name string
	if err := tx.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1`, schoolID).Scan(&name); err != nil {
		return "your school"
	}
	return name
}

// deliverSignInLink queues the email that carries a sign-in link.
func (s *Server) deliverSignInLink(ctx context.Context, tx pgx.Tx, a auth.Account, token string) error {
	school := s.schoolName(ctx, tx, a.SchoolID)
	_, _, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{
		SchoolID: a.SchoolID,
		To:       a.Email,
		ToName:   a.DisplayName,
		Subject:  "Your sign-in link for " + school,
		Kind:     "sign_in_link",
		Text: fmt.Sprintf(`Hello %s,

Use this link to sign in to Signoff for %s:

%s

It works once, for the next 20 minutes. If you did not ask to sign in, you can ignore this email: nobody can sign in without the link.

%s
`, a.DisplayName, school, s.link("/sign-in/link/"+url.PathEscape(token)), school),
	})
	return err
}

// deliverFamilyLink queues the email that carries a parent's family link.
func (s *Server) deliverFamilyLink(ctx context.Context, tx pgx.Tx, a auth.Account, token string) error {
	school := s.schoolName(ctx, tx, a.SchoolID)
	var to string
	if err := tx.QueryRow(ctx, `SELECT coalesce(p.email, '') FROM people p WHERE p.account_id = $1 AND p.kind = 'parent' ORDER BY p.id LIMIT 1`, a.ID).Scan(&to); err != nil || to == "" {
		return fmt.Errorf("web: family link: no email address for account %d", a.ID)
	}
	_, _, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{
		SchoolID: a.SchoolID,
		To:       to,
		ToName:   a.DisplayName,
		Subject:  "Your link to your children's forms at " + school,
		Kind:     "family_link",
		Text: fmt.Sprintf(`Hello %s,

%s uses Signoff for forms such as the home-school agreement and photo consent. This link opens your children's forms, with no password:

%s

Keep this email: the link works until the school replaces it. Please don't forward it, as it opens your family's forms. If you lose it, you can ask for a new one at %s

%s
`, a.DisplayName, school, s.link("/f/"+token), s.link("/family/lost"), school),
	})
	return err
}

// deliverInvitation queues a member of staff's invitation, with a
// single-use sign-in link, once a day at most.
func (s *Server) deliverInvitation(ctx context.Context, tx pgx.Tx, i onboarding.Invitee, token string) (bool, error) {
	school := s.schoolName(ctx, tx, i.SchoolID)
	_, queued, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{
		SchoolID:  i.SchoolID,
		To:        i.Email,
		ToName:    i.Name,
		Subject:   school + " uses Signoff: your sign-in link",
		Kind:      "invitation",
		DedupeKey: fmt.Sprintf("school:%d:invitation:account:%d:%s", i.SchoolID, i.AccountID, s.db.Now().Format("2006-01-02")),
		Text: fmt.Sprintf(`Hello %s,

%s now uses Signoff for the policies and agreements staff read and sign, such as the acceptable use policy.

Use this link to sign in and see what there is for you:

%s

It works once, for 7 days. Afterwards, sign in at %s with a link sent to this address (or set a password under "Your account").

%s
`, i.Name, school, s.link("/sign-in/link/"+url.PathEscape(token)), s.link("/sign-in"), school),
	})
	return queued, err
}

// deliverSetUpLink queues a new administrator's set-up link.
func (s *Server) deliverSetUpLink(what string) func(ctx context.Context, tx pgx.Tx, schoolID int64, a auth.Account, token string) error {
	return func(ctx context.Context, tx pgx.Tx, schoolID int64, a auth.Account, token string) error {
		school := s.schoolName(ctx, tx, schoolID)
		_, _, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.Message{
			SchoolID: schoolID,
			To:       a.Email,
			ToName:   a.DisplayName,
			Subject:  "Set up your Signoff account",
			Kind:     "set_up_link",
			Text: fmt.Sprintf(`Hello %s,

You have been made %s in Signoff.

Use this link to choose your password and sign in:

%s

It works once, for 7 days. After that, sign in at %s with your email address and password.

%s
`, a.DisplayName, what, s.link("/set-up/"+url.PathEscape(token)), s.link("/sign-in"), school),
		})
		return err
	}
}
