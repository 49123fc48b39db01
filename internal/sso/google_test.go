package sso_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"signoff/internal/limits"
	"signoff/internal/people"
	"signoff/internal/sso"
	"signoff/internal/sso/oidctest"
)

// TestGoogleWorkspace: with Google's issuer pointed at the test provider,
// the hd claim must be the school's domain and the address verified.
func TestGoogleWorkspace(t *testing.T) {
	e := newEnv(t)
	e.store.GoogleIssuer = e.p.Issuer
	e.connect(sso.Connection{Provider: sso.Google, GoogleDomain: "oakfield.example", EmailDomains: []string{"oakfield.example"}})
	a := e.member(e.school, "j.smith@oakfield.example", people.Teacher)
	g := func(sub string, hd any, verified bool) {
		e.p.AddUser(oidctest.User{Subject: sub, Email: "j.smith@oakfield.example", Password: "provider-pass",
			EmailVerified: oidctest.Bool(verified), Claims: map[string]any{"hd": hd}})
	}
	g("g-other-domain", "gmail.example", true)
	_, err := e.signIn("j.smith@oakfield.example")
	wantRefused(t, err, "not from your school's Google Workspace")
	g("g-unverified", "oakfield.example", false)
	_, err = e.signIn("j.smith@oakfield.example")
	wantRefused(t, err, "has not verified the email address")
	g("g-jsmith", "oakfield.example", true)
	res, err := e.signIn("j.smith@oakfield.example")
	if err != nil || res.Account.ID != a.ID {
		t.Fatalf("Google sign-in: %+v, %v", res.Account, err)
	}
	if want := "Google Workspace account j.smith@oakfield.example, domain oakfield.example"; res.Identity.Description() != want {
		t.Fatalf("identified as %q, want %q", res.Identity.Description(), want)
	}
	// The authorization request asks Google for the domain's accounts only.
	authURL, _, err := e.store.Begin(context.Background(), e.school, "/", "127.0.0.1")
	if err != nil || !strings.Contains(authURL, "hd=oakfield.example") {
		t.Fatalf("authorization URL %s (%v) has no hd", authURL, err)
	}
}

// TestDescriptionIsClippedByCharacters: how a signer was identified is
// kept with their signature, so an address too long for it is cut at the
// limit's character, never inside one.
func TestDescriptionIsClippedByCharacters(t *testing.T) {
	for _, p := range []sso.Provider{sso.Microsoft, sso.Google, sso.Generic} {
		d := sso.Identity{Provider: p, Email: strings.Repeat("€", limits.IdentifiedBy) + "@oakfield.example"}.Description()
		if !utf8.ValidString(d) || utf8.RuneCountInString(d) != limits.IdentifiedBy {
			t.Errorf("%s: %d characters, valid UTF-8 %v", p, utf8.RuneCountInString(d), utf8.ValidString(d))
		}
	}
}
