package mail_test

import (
	"strings"
	"testing"

	"signoff/internal/mail"
)

// TestLinkEmails: each email that carries a way in is a valid message
// with its link, the school's name and, for invitations, a key that
// queues it once a day.
func TestLinkEmails(t *testing.T) {
	const link = "https://signoff.example/sign-in/link/abc"
	for _, m := range []mail.Message{
		mail.SignInLink(1, "Hollybrook", "a@example.org", "Ann", link),
		mail.FamilyLink(1, "Hollybrook", "a@example.org", "Ann", link, "https://signoff.example/family/lost"),
		mail.Invitation(1, 7, "Hollybrook", "a@example.org", "Ann", link, "https://signoff.example/sign-in", "2026-12-01"),
		mail.SetUpLink(1, "Hollybrook", "a@example.org", "Ann", "the first administrator of Hollybrook", link, "https://signoff.example/sign-in"),
	} {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", m.Kind, err)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "Hello Ann,") || !strings.HasSuffix(m.Text, "Hollybrook\n") || m.SchoolID != 1 {
			t.Errorf("%s: %q", m.Kind, m.Text)
		}
	}
	if m := mail.Invitation(1, 7, "H", "a@example.org", "Ann", link, "x", "2026-12-01"); m.DedupeKey != "school:1:invitation:account:7:2026-12-01" {
		t.Errorf("invitation key %q", m.DedupeKey)
	}
}
