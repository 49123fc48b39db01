package web

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"signoff/internal/auth"
	"signoff/internal/mail"
	"signoff/internal/onboarding"
	"signoff/internal/people"
	"signoff/internal/schools"
)

// link makes an absolute address on this site for emails and letters.
func (s *Server) link(path string) string { return s.baseURL + path }

// schoolName returns the name of a school for an email.
func (s *Server) schoolName(ctx context.Context, tx pgx.Tx, schoolID int64) string {
	name, err := schools.NameTx(ctx, tx, schoolID)
	if err != nil {
		return "your school"
	}
	return name
}

// deliverSignInLink queues the email that carries a sign-in link.
func (s *Server) deliverSignInLink(ctx context.Context, tx pgx.Tx, a auth.Account, token string) error {
	_, _, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.SignInLink(a.SchoolID, s.schoolName(ctx, tx, a.SchoolID), a.Email, a.DisplayName,
		s.link("/sign-in/link/"+url.PathEscape(token))))
	return err
}

// deliverFamilyLink queues the email that carries a parent's family link.
func (s *Server) deliverFamilyLink(ctx context.Context, tx pgx.Tx, a auth.Account, token string) error {
	to, err := people.ParentEmailTx(ctx, tx, a.ID)
	if err != nil {
		return err
	}
	if to == "" {
		return fmt.Errorf("web: family link: no email address for account %d", a.ID)
	}
	_, _, err = mail.Enqueue(ctx, tx, s.db.Now(), mail.FamilyLink(a.SchoolID, s.schoolName(ctx, tx, a.SchoolID), to, a.DisplayName,
		s.link("/f/"+token), s.link("/family/lost")))
	return err
}

// deliverInvitation queues a member of staff's invitation, with a
// single-use sign-in link, once a day at most.
func (s *Server) deliverInvitation(ctx context.Context, tx pgx.Tx, i onboarding.Invitee, token string) (bool, error) {
	_, queued, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.Invitation(i.SchoolID, i.AccountID, s.schoolName(ctx, tx, i.SchoolID), i.Email, i.Name,
		s.link("/sign-in/link/"+url.PathEscape(token)), s.link("/sign-in"), s.db.Now().Format("2006-01-02")))
	return queued, err
}

// deliverSetUpLink queues a new administrator's set-up link.
func (s *Server) deliverSetUpLink(what string) func(ctx context.Context, tx pgx.Tx, schoolID int64, a auth.Account, token string) error {
	return func(ctx context.Context, tx pgx.Tx, schoolID int64, a auth.Account, token string) error {
		_, _, err := mail.Enqueue(ctx, tx, s.db.Now(), mail.SetUpLink(schoolID, s.schoolName(ctx, tx, schoolID), a.Email, a.DisplayName, what,
			s.link("/set-up/"+url.PathEscape(token)), s.link("/sign-in")))
		return err
	}
}
