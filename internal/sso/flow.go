package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/limits"
)

// AttemptLifetime is how long a person has at the provider before the
// sign-in must be started again.
const AttemptLifetime = 10 * time.Minute

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sso: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashState(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

func unreachable(c Connection, err error) error {
	return &apperr.Error{Code: apperr.Unavailable, Message: fmt.Sprintf(
		"We could not reach your school's %s sign-in just now (%s). Try again in a few minutes; administrators can sign in with their password.",
		c.Provider.Label(), limits.Clip(err.Error(), 200))}
}

func (s *Store) oauthConfig(c Connection, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: s.RedirectURL(), Scopes: Scopes}
}

// Begin starts a sign-in with the provider of the school with slug: it
// stores the attempt (state hash, nonce, PKCE verifier) and returns the
// provider's address to send the browser to, and the state, which the
// browser must bring back in its cookie.
func (s *Store) Begin(ctx context.Context, schoolID int64, next, ip string) (authURL, state string, err error) {
	if err := s.limits.Allow(ctx, LimitStartByIP, ip); err != nil {
		return "", "", err
	}
	c, err := s.withSecret(ctx, schoolID)
	if err != nil {
		return "", "", err
	}
	cp, err := s.provider(ctx, s.Issuer(c))
	if err != nil {
		return "", "", unreachable(c, err)
	}
	if state, err = randomToken(); err != nil {
		return "", "", err
	}
	nonce, err := randomToken()
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	if len(next) > 500 {
		next = "/"
	}
	now := s.db.Now()
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		// Old attempts go as new ones come: bounded work, no job needed.
		if _, err := tx.Exec(ctx, `DELETE FROM sso_attempts WHERE ctid IN (SELECT ctid FROM sso_attempts WHERE expires_at < $1 LIMIT 100)`, now.Add(-time.Hour)); err != nil {
			return fmt.Errorf("sso: clean attempts: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO sso_attempts (state_hash, school_id, nonce, verifier, next, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, hashState(state), schoolID, nonce, verifier, next, now, now.Add(AttemptLifetime))
		if err != nil {
			return fmt.Errorf("sso: begin: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if c.Provider == Google {
		// Google shows only the school's accounts (hd is checked in the token too).
		opts = append(opts, oauth2.SetAuthURLParam("hd", c.GoogleDomain))
	}
	return s.oauthConfig(c, cp.p).AuthCodeURL(state, opts...), state, nil
}

// Return is what the provider sent the browser back with.
type Return struct {
	State        string // the state parameter
	BrowserState string // the state in the browser's cookie
	Code         string
	Error        string // the provider's error, e.g. access_denied
	ErrorDesc    string
	IP           string
	UserAgent    string
}

// Result is a finished sign-in.
type Result struct {
	Account  auth.Account
	Token    string // the new session's
	Next     string
	Identity Identity
}

// refused is a sign-in the provider or Signoff turned down: its message
// is shown to the person.
func refused(format string, args ...any) error {
	return apperr.New(apperr.Unauthenticated, format, args...)
}

// Finish completes a sign-in: the attempt is used once, the code is
// exchanged (with the PKCE verifier), the ID token checked, and the
// account found; then a session opens.
func (s *Store) Finish(ctx context.Context, ret Return) (Result, error) {
	if ret.State == "" || ret.BrowserState == "" || ret.State != ret.BrowserState {
		return Result{}, refused("This sign-in was started in another browser, or has expired. Start again from the sign-in page.")
	}
	now := s.db.Now()
	var schoolID int64
	var nonce, verifier, next string
	err := s.db.Pool.QueryRow(ctx, `UPDATE sso_attempts SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING school_id, nonce, verifier, next`, hashState(ret.State), now).Scan(&schoolID, &nonce, &verifier, &next)
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, refused("This sign-in has already been used or has expired. Start again from the sign-in page.")
	}
	if err != nil {
		return Result{}, fmt.Errorf("sso: use attempt: %w", err)
	}
	c, err := s.withSecret(ctx, schoolID)
	if err != nil {
		return Result{}, err
	}
	if ret.Error != "" {
		desc := ret.Error
		if ret.ErrorDesc != "" {
			desc += ": " + ret.ErrorDesc
		}
		if len(desc) > 300 {
			desc = desc[:300]
		}
		return Result{}, refused("%s did not sign you in (%s).", c.Provider.Label(), desc)
	}
	if ret.Code == "" || len(ret.Code) > 4096 {
		return Result{}, refused("%s sent no sign-in code back. Start again from the sign-in page.", c.Provider.Label())
	}
	cp, err := s.provider(ctx, s.Issuer(c))
	if err != nil {
		return Result{}, unreachable(c, err)
	}
	tok, err := s.oauthConfig(c, cp.p).Exchange(oidc.ClientContext(ctx, s.HTTPClient), ret.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Result{}, refused("%s refused the sign-in (%s). Start again from the sign-in page.", c.Provider.Label(), limits.Clip(re.ErrorCode, 100))
		}
		return Result{}, unreachable(c, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Result{}, refused("%s sent no ID token.", c.Provider.Label())
	}
	id, err := s.VerifyIDToken(ctx, c, raw, nonce)
	if err != nil {
		return Result{}, err
	}
	res := Result{Identity: id, Next: next}
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		a, err := s.matchTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		res.Account = a
		res.Token, err = s.accounts.SignInTx(ctx, tx, a, auth.Via{Method: "single sign-on", IdentifiedBy: id.Description(),
			SSOSchoolID: c.SchoolID, IP: ret.IP, UserAgent: ret.UserAgent})
		return err
	})
	if err != nil {
		if apperr.CodeOf(err) == apperr.Unauthenticated {
			s.recordRefusal(ctx, c.SchoolID, id, apperr.MessageOf(err), ret.IP)
		}
		return Result{}, err
	}
	return res, nil
}

// recordRefusal writes a refused single sign-on to the audit log, so the
// office can see who tried.
func (s *Store) recordRefusal(ctx context.Context, schoolID int64, id Identity, reason, ip string) {
	_ = s.db.InTx(ctx, func(tx pgx.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: audit.Actor{Name: "single sign-on", IP: ip},
			Action: "sso.refused", Subject: limits.Clip(id.Email, limits.Email), Detail: map[string]string{"subject": limits.Clip(id.Subject, 255), "reason": limits.Clip(reason, 500)}})
	})
}

// Identity is who the provider says signed in.
type Identity struct {
	Provider Provider
	Issuer   string
	Subject  string
	Email    string
	Name     string
	TenantID string // Microsoft's tid
	Domain   string // Google's hd
}

// Description says how the person was identified, for the session and
// the certificate page.
func (id Identity) Description() string {
	switch id.Provider {
	case Microsoft:
		return limits.Clip("Microsoft 365 account "+id.Email+", tenant "+id.TenantID, limits.IdentifiedBy)
	case Google:
		return limits.Clip("Google Workspace account "+id.Email+", domain "+id.Domain, limits.IdentifiedBy)
	}
	return limits.Clip("School sign-in account "+id.Email+", from "+id.Issuer, limits.IdentifiedBy)
}

// idClaims are the ID token's claims Signoff reads.
type idClaims struct {
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"` // a boolean, or "true" from some providers
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	TenantID          string `json:"tid"`
	HostedDomain      string `json:"hd"`
}

// verified reads email_verified: known says the provider gave it.
func (c idClaims) verified() (value, known bool) {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v, true
	case string:
		return strings.EqualFold(v, "true"), true
	}
	return false, false
}

// VerifyIDToken checks an ID token for connection c: its signature (with
// the provider's published keys), issuer, audience (our client ID) and
// expiry (against the database clock), that it carries nonce, and the
// tenant or domain the school configured. It returns who signed in.
func (s *Store) VerifyIDToken(ctx context.Context, c Connection, raw, nonce string) (Identity, error) {
	issuer := s.Issuer(c)
	cp, err := s.provider(ctx, issuer)
	if err != nil {
		return Identity{}, unreachable(c, err)
	}
	v := cp.p.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), s.HTTPClient), &oidc.Config{ClientID: c.ClientID, Now: s.db.Now})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return Identity{}, refused("Your sign-in with %s had expired when it reached Signoff. Start again from the sign-in page.", c.Provider.Label())
		case strings.Contains(err.Error(), "audience"):
			return Identity{}, refused("The answer from %s was meant for another application, not Signoff. Ask the office to check the client ID in the single sign-on settings.", c.Provider.Label())
		case strings.Contains(err.Error(), "issuer"):
			return Identity{}, refused("The answer did not come from your school's %s sign-in.", c.Provider.Label())
		}
		return Identity{}, refused("The answer from %s could not be checked (%s). Start again from the sign-in page.", c.Provider.Label(), limits.Clip(err.Error(), 200))
	}
	if nonce == "" || tok.Nonce != nonce {
		return Identity{}, refused("The answer from %s does not belong to this sign-in. Start again from the sign-in page.", c.Provider.Label())
	}
	var cl idClaims
	if err := tok.Claims(&cl); err != nil {
		return Identity{}, refused("The answer from %s could not be read.", c.Provider.Label())
	}
	// The identity is remembered under the issuer configured (go-oidc
	// also accepts Google's older "accounts.google.com" in tokens).
	id := Identity{Provider: c.Provider, Issuer: issuer, Subject: tok.Subject, Name: limits.Clip(strings.TrimSpace(cl.Name), limits.Name),
		TenantID: strings.ToLower(cl.TenantID), Domain: strings.ToLower(cl.HostedDomain)}
	if id.Subject == "" || len(id.Subject) > 255 {
		return Identity{}, refused("The answer from %s has no usable subject identifier.", c.Provider.Label())
	}
	email := cl.Email
	switch c.Provider {
	case Microsoft:
		// Entra ID's tokens are issued by the tenant; a token of another
		// tenant (a personal account, another organisation) is refused.
		// Addresses come from the tenant's own directory.
		if id.TenantID == "" || id.TenantID != c.TenantID {
			return Identity{}, refused("You signed in with a Microsoft account that is not from your school's Microsoft 365 (its tenant is %q). Sign in with your school account.", limits.Clip(cl.TenantID, 64))
		}
		if !strings.Contains(email, "@") {
			email = cl.PreferredUsername
		}
	case Google:
		if id.Domain != c.GoogleDomain {
			return Identity{}, refused("You signed in with a Google account that is not from your school's Google Workspace (%s). Sign in with your school account.", c.GoogleDomain)
		}
		if ok, _ := cl.verified(); !ok {
			return Identity{}, refused("Google has not verified the email address of this account.")
		}
	default:
		if ok, known := cl.verified(); known && !ok {
			return Identity{}, refused("Your provider has not verified the email address of this account.")
		}
	}
	id.Email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(id.Email, "@") || len(id.Email) > 254 {
		return Identity{}, refused("%s did not give Signoff an email address for this account. Ask the office to check the single sign-on settings (the email scope).", c.Provider.Label())
	}
	return id, nil
}

// matchTx finds the account of id in c's school: by the remembered
// subject first, else by the email address (then remembered). Nobody is
// created.
func (s *Store) matchTx(ctx context.Context, tx pgx.Tx, c Connection, id Identity) (auth.Account, error) {
	now := s.db.Now()
	var accountID, schoolID int64
	err := tx.QueryRow(ctx, `SELECT account_id, school_id FROM sso_identities WHERE issuer = $1 AND subject = $2 FOR UPDATE`,
		id.Issuer, id.Subject).Scan(&accountID, &schoolID)
	switch {
	case err == nil:
		if schoolID != c.SchoolID {
			return auth.Account{}, refused("This account belongs to another school's Signoff. Use that school's sign-in.")
		}
		a, err := auth.AccountTx(ctx, tx, accountID)
		if apperr.CodeOf(err) == apperr.NotFound {
			return auth.Account{}, refused("Your Signoff account is no longer active. Ask your school office.")
		}
		if err != nil {
			return auth.Account{}, err
		}
		if _, err := tx.Exec(ctx, `UPDATE sso_identities SET email = $3, last_seen_at = $4 WHERE issuer = $1 AND subject = $2`,
			id.Issuer, id.Subject, id.Email, now); err != nil {
			return auth.Account{}, fmt.Errorf("sso: remember: %w", err)
		}
		return a, staffOnly(a)
	case !errors.Is(err, pgx.ErrNoRows):
		return auth.Account{}, fmt.Errorf("sso: identity: %w", err)
	}
	var schoolName string
	if err := tx.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1`, c.SchoolID).Scan(&schoolName); err != nil {
		return auth.Account{}, fmt.Errorf("sso: school: %w", err)
	}
	if !c.OwnsDomain(id.Email) {
		return auth.Account{}, refused("%s is not an address of %s. Sign in with your school account, or ask the office.", id.Email, schoolName)
	}
	var disabled bool
	err = tx.QueryRow(ctx, `SELECT id, school_id, disabled_at IS NOT NULL FROM accounts WHERE email = $1`, id.Email).Scan(&accountID, &schoolID, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Account{}, refused("There is no Signoff account for %s at %s. Signing in does not create one: ask the school office to add you.", id.Email, schoolName)
	}
	if err != nil {
		return auth.Account{}, fmt.Errorf("sso: account: %w", err)
	}
	if schoolID != c.SchoolID {
		return auth.Account{}, refused("%s is a member of another school in Signoff, not %s. Use your own school's sign-in.", id.Email, schoolName)
	}
	if disabled {
		return auth.Account{}, refused("Your Signoff account is no longer active. Ask your school office.")
	}
	var other string
	err = tx.QueryRow(ctx, `SELECT subject FROM sso_identities WHERE account_id = $1 AND issuer = $2`, accountID, id.Issuer).Scan(&other)
	if err == nil {
		return auth.Account{}, refused("Another %s account was used to sign in as %s before. Ask the school office.", c.Provider.Label(), id.Email)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return auth.Account{}, fmt.Errorf("sso: identity: %w", err)
	}
	a, err := auth.AccountTx(ctx, tx, accountID)
	if err != nil {
		return auth.Account{}, err
	}
	if err := staffOnly(a); err != nil {
		return auth.Account{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sso_identities (issuer, subject, school_id, account_id, email, first_seen_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, id.Issuer, id.Subject, c.SchoolID, accountID, id.Email, now); err != nil {
		return auth.Account{}, fmt.Errorf("sso: remember: %w", err)
	}
	return a, nil
}

// staffOnly refuses accounts that only parents hold: they use family links.
func staffOnly(a auth.Account) error {
	if a.Has(auth.Admin) || a.Has(auth.Head) || a.Has(auth.Governor) || a.Has(auth.Staff) {
		return nil
	}
	return refused("Parents and carers do not sign in here: use the family link the school sent you.")
}

// TestStep is one check of "Test the connection".
type TestStep struct {
	Label  string
	OK     bool
	Detail string
}

// Test checks that a school's provider can be used: its discovery
// document (at the issuer Signoff expects) and its signing keys.
func (s *Store) Test(ctx context.Context, schoolID int64) ([]TestStep, error) {
	c, ok, err := s.Get(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "This school has no single sign-on to test")
	}
	issuer := s.Issuer(c)
	s.mu.Lock()
	delete(s.providers, issuer) // a test always asks afresh
	s.mu.Unlock()
	var steps []TestStep
	cp, err := s.provider(ctx, issuer)
	if err != nil {
		return append(steps, TestStep{Label: "Discovery document", Detail: limits.Clip(issuer+"/.well-known/openid-configuration: "+err.Error(), 500)}), nil
	}
	var doc struct {
		Issuer   string   `json:"issuer"`
		JWKS     string   `json:"jwks_uri"`
		Auth     string   `json:"authorization_endpoint"`
		Token    string   `json:"token_endpoint"`
		Methods  []string `json:"code_challenge_methods_supported"`
		Algs     []string `json:"id_token_signing_alg_values_supported"`
		Response []string `json:"response_types_supported"`
	}
	_ = cp.p.Claims(&doc)
	steps = append(steps, TestStep{Label: "Discovery document", OK: true,
		Detail: fmt.Sprintf("Issuer %s; sign-in at %s; tokens from %s", doc.Issuer, doc.Auth, doc.Token)})
	pkce := len(doc.Methods) == 0 || containsFold(doc.Methods, "S256")
	steps = append(steps, TestStep{Label: "PKCE (S256)", OK: pkce, Detail: map[bool]string{
		true: "Supported", false: "The provider does not list S256: " + strings.Join(doc.Methods, ", ")}[pkce]})
	n, err := s.countKeys(ctx, doc.JWKS)
	if err != nil {
		return append(steps, TestStep{Label: "Signing keys", Detail: limits.Clip(doc.JWKS+": "+err.Error(), 500)}), nil
	}
	steps = append(steps, TestStep{Label: "Signing keys", OK: n > 0, Detail: fmt.Sprintf("%d keys at %s (algorithms: %s)", n, doc.JWKS, strings.Join(doc.Algs, ", "))})
	return steps, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// countKeys fetches a JSON Web Key Set and counts its keys.
func (s *Store) countKeys(ctx context.Context, jwksURL string) (int, error) {
	if jwksURL == "" {
		return 0, errors.New("the discovery document names no jwks_uri")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return 0, err
	}
	res, err := s.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("answered %s", res.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&set); err != nil {
		return 0, fmt.Errorf("not a key set: %w", err)
	}
	return len(set.Keys), nil
}
