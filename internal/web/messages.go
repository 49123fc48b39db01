package web

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"signoff/internal/auth"
	"signoff/internal/mail"
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
