package sso

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/people"
	"signoff/internal/ratelimit"
	"signoff/internal/sealed"
)

// Store keeps the schools' connections and signs people in through them.
type Store struct {
	db       *database.DB
	accounts *auth.Store
	limits   *ratelimit.Limiter
	box      *sealed.Box
	baseURL  string

	// HTTPClient talks to the providers (discovery, keys, tokens).
	HTTPClient *http.Client
	// MicrosoftAuthority is where Microsoft's tenants live; a tenant's
	// issuer is MicrosoftAuthority/{tenant}/v2.0. Tests point it at a
	// provider on this machine.
	MicrosoftAuthority string
	// GoogleIssuer is Google's issuer.
	GoogleIssuer string

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p          *oidc.Provider
	endSession string
	at         time.Time
}

// providerTTL is how long a provider's discovery document is reused.
const providerTTL = time.Hour

// LimitStartByIP bounds the sign-ins one address can start.
var LimitStartByIP = ratelimit.Rule{Name: "sso-start-ip", Max: 60, Window: 15 * time.Minute}

// NewStore returns a Store. key (32 bytes) seals the client secrets;
// baseURL is the site's public address, for the redirect URI.
func NewStore(db *database.DB, accounts *auth.Store, key []byte, baseURL string) (*Store, error) {
	box, err := sealed.New(key)
	if err != nil {
		return nil, fmt.Errorf("sso: secret key: %w", err)
	}
	return &Store{
		db: db, accounts: accounts, limits: ratelimit.New(db), box: box, baseURL: strings.TrimRight(baseURL, "/"),
		HTTPClient:         &http.Client{Timeout: 10 * time.Second},
		MicrosoftAuthority: "https://login.microsoftonline.com",
		GoogleIssuer:       "https://accounts.google.com",
		providers:          map[string]cachedProvider{},
	}, nil
}

// RedirectURL is the address to register at the provider.
func (s *Store) RedirectURL() string { return s.baseURL + CallbackPath }

// Issuer is the issuer a connection's ID tokens must carry.
func (s *Store) Issuer(c Connection) string {
	switch c.Provider {
	case Microsoft:
		return strings.TrimRight(s.MicrosoftAuthority, "/") + "/" + c.TenantID + "/v2.0"
	case Google:
		return s.GoogleIssuer
	}
	return c.IssuerURL
}

func (s *Store) seal(schoolID int64, secret string) ([]byte, error) {
	return s.box.Seal([]byte(secret), secretAAD(schoolID))
}

func (s *Store) open(schoolID int64, sealed []byte) (string, error) {
	plain, err := s.box.Open(sealed, secretAAD(schoolID))
	if err != nil {
		return "", apperr.New(apperr.Unavailable, "The client secret stored for this school cannot be read with this server's secret key (SIGNOFF_SECRET_KEY): enter it again in the single sign-on settings")
	}
	return string(plain), nil
}

// secretAAD binds a sealed secret to its school, so it cannot be copied
// to another school's row.
func secretAAD(schoolID int64) []byte {
	return []byte("signoff sso client secret, school " + strconv.FormatInt(schoolID, 10))
}

const connectionColumns = `school_id, provider, tenant_id, google_domain, issuer_url, client_id, email_domains, required_roles, updated_at`

func scanConnection(r pgx.Row, extra ...any) (Connection, error) {
	var c Connection
	var roles []string
	if err := r.Scan(append([]any{&c.SchoolID, &c.Provider, &c.TenantID, &c.GoogleDomain, &c.IssuerURL, &c.ClientID,
		&c.EmailDomains, &roles, &c.UpdatedAt}, extra...)...); err != nil {
		return Connection{}, err
	}
	for _, r := range roles {
		c.RequiredRoles = append(c.RequiredRoles, people.StaffRole(r))
	}
	c.HasSecret = true
	return c, nil
}

// Get returns a school's connection, if it has one.
func (s *Store) Get(ctx context.Context, schoolID int64) (Connection, bool, error) {
	c, err := scanConnection(s.db.Pool.QueryRow(ctx, `SELECT `+connectionColumns+` FROM sso_connections WHERE school_id = $1`, schoolID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Connection{}, false, nil
	}
	if err != nil {
		return Connection{}, false, fmt.Errorf("sso: get: %w", err)
	}
	return c, true, nil
}

// withSecret reads a connection and opens its secret.
func (s *Store) withSecret(ctx context.Context, schoolID int64) (Connection, error) {
	var sealed []byte
	c, err := scanConnection(s.db.Pool.QueryRow(ctx, `SELECT `+connectionColumns+`, client_secret FROM sso_connections WHERE school_id = $1`, schoolID), &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return Connection{}, apperr.New(apperr.NotFound, "This school has no single sign-on")
	}
	if err != nil {
		return Connection{}, fmt.Errorf("sso: get: %w", err)
	}
	if c.ClientSecret, err = s.open(schoolID, sealed); err != nil {
		return Connection{}, err
	}
	return c, nil
}

// Save creates or replaces a school's connection. An empty ClientSecret
// keeps the stored one. One transaction, audited (never the secret).
func (s *Store) Save(ctx context.Context, c Connection, actor audit.Actor) error {
	_, exists, err := s.Get(ctx, c.SchoolID)
	if err != nil {
		return err
	}
	if err := c.Validate(!exists); err != nil {
		return err
	}
	var sealed []byte
	if c.ClientSecret != "" {
		if sealed, err = s.seal(c.SchoolID, c.ClientSecret); err != nil {
			return err
		}
	}
	roles := make([]string, len(c.RequiredRoles))
	for i, r := range c.RequiredRoles {
		roles[i] = string(r)
	}
	issuer := ""
	if c.Provider == Generic {
		issuer = c.IssuerURL
	} else {
		issuer = s.Issuer(c)
	}
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO sso_connections (school_id, provider, tenant_id, google_domain, issuer_url, client_id, client_secret,
				email_domains, required_roles, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, ''::bytea), $8, $9, $10, $11)
			ON CONFLICT (school_id) DO UPDATE SET provider = $2, tenant_id = $3, google_domain = $4, issuer_url = $5, client_id = $6,
				client_secret = coalesce($7, sso_connections.client_secret), email_domains = $8, required_roles = $9, updated_at = $10, updated_by = $11`,
			c.SchoolID, c.Provider, c.TenantID, c.GoogleDomain, issuer, c.ClientID, sealed, c.EmailDomains, roles, now, database.NullID(actor.AccountID))
		if err != nil {
			return fmt.Errorf("sso: save: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("sso: save: %d rows", tag.RowsAffected())
		}
		detail := map[string]string{"provider": string(c.Provider), "issuer": issuer, "client_id": c.ClientID,
			"email_domains": strings.Join(c.EmailDomains, ","), "required_roles": strings.Join(roles, ",")}
		if sealed != nil {
			detail["client_secret"] = "replaced"
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: c.SchoolID, At: now, Actor: actor, Action: "sso.connection_saved",
			Subject: fmt.Sprintf("school %d", c.SchoolID), Detail: detail})
	})
}

// Remove disconnects a school's provider: its staff sign in with
// passwords and emailed links again.
func (s *Store) Remove(ctx context.Context, schoolID int64, actor audit.Actor) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sso_connections WHERE school_id = $1`, schoolID)
		if err != nil {
			return fmt.Errorf("sso: remove: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{SchoolID: schoolID, At: s.db.Now(), Actor: actor, Action: "sso.connection_removed",
			Subject: fmt.Sprintf("school %d", schoolID)})
	})
}

// Button is a school's way in on the sign-in page.
type Button struct {
	SchoolSlug string
	SchoolName string
	Provider   Provider
}

// Buttons lists the schools that have single sign-on, by name.
func (s *Store) Buttons(ctx context.Context) ([]Button, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT sc.slug, sc.name, c.provider FROM sso_connections c JOIN schools sc ON sc.id = c.school_id ORDER BY sc.name`)
	if err != nil {
		return nil, fmt.Errorf("sso: buttons: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Button, error) {
		var b Button
		return b, r.Scan(&b.SchoolSlug, &b.SchoolName, &b.Provider)
	})
	if err != nil {
		return nil, fmt.Errorf("sso: buttons: %w", err)
	}
	return out, nil
}

// RequiredMessage is auth.Store's RequireSSO: for a member of staff whose
// role the school signs in with its provider, the message that says how
// to sign in; "" otherwise. Administrators always keep their password.
func (s *Store) RequiredMessage(ctx context.Context, a auth.Account) (string, error) {
	if a.Has(auth.Admin) || a.StaffRole == "" {
		return "", nil
	}
	c, ok, err := s.Get(ctx, a.SchoolID)
	if err != nil || !ok || !c.Requires(people.StaffRole(a.StaffRole)) {
		return "", err
	}
	return fmt.Sprintf("Your school signs you in with your %s account: use “%s” on the sign-in page. Passwords and emailed links are not used for your account.",
		c.Provider.AccountLabel(), c.Provider.ButtonLabel()), nil
}

// AccountLabel names the provider's accounts: "Microsoft 365".
func (p Provider) AccountLabel() string {
	switch p {
	case Microsoft:
		return "Microsoft 365"
	case Google:
		return "Google Workspace"
	}
	return "school"
}

// provider returns the discovered provider of issuer, reusing it for an
// hour (its signing keys are cached and refreshed by go-oidc).
func (s *Store) provider(ctx context.Context, issuer string) (cachedProvider, error) {
	s.mu.Lock()
	cp, ok := s.providers[issuer]
	s.mu.Unlock()
	if ok && time.Since(cp.at) < providerTTL {
		return cp, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), s.HTTPClient), issuer)
	if err != nil {
		return cachedProvider{}, err
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	cp = cachedProvider{p: p, endSession: extra.EndSession, at: time.Now()}
	s.mu.Lock()
	s.providers[issuer] = cp
	s.mu.Unlock()
	return cp, nil
}

// SignOutURL is the provider's end-session address for a school, "" when
// the provider has none (or cannot be reached now).
func (s *Store) SignOutURL(ctx context.Context, schoolID int64) string {
	c, ok, err := s.Get(ctx, schoolID)
	if err != nil || !ok {
		return ""
	}
	cp, err := s.provider(ctx, s.Issuer(c))
	if err != nil || cp.endSession == "" {
		return ""
	}
	sep := "?"
	if strings.Contains(cp.endSession, "?") {
		sep = "&"
	}
	return cp.endSession + sep + "client_id=" + urlQueryEscape(c.ClientID)
}
