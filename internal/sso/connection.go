// Package sso signs staff in with their school's Microsoft 365 (Entra
// ID), Google Workspace or other OpenID Connect provider.
//
// A school connects its provider once (Connection): the client ID and
// secret it registered there (the secret sealed with AES-GCM, never shown
// again), the email domains that belong to it, and which staff roles must
// sign in this way. A sign-in is the authorization code flow with state,
// nonce and PKCE (S256); the ID token's signature, issuer, audience and
// expiry are checked by go-oidc, the nonce, tenant (Microsoft's tid) and
// domain (Google's hd) here. The account is found by its verified email
// address, then remembered by the provider's subject identifier, so a
// renamed address still matches; nobody is created by signing in.
package sso

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"signoff/internal/apperr"
	"signoff/internal/people"
)

// Provider is the kind of identity provider.
type Provider string

// The providers.
const (
	Microsoft Provider = "microsoft" // Microsoft Entra ID (Microsoft 365), one tenant
	Google    Provider = "google"    // Google Workspace, one domain
	Generic   Provider = "oidc"      // any OpenID provider, by its issuer URL
)

// Label names the provider as people know it.
func (p Provider) Label() string {
	switch p {
	case Microsoft:
		return "Microsoft"
	case Google:
		return "Google"
	}
	return "your school account"
}

// ButtonLabel is the sign-in button's text.
func (p Provider) ButtonLabel() string { return "Sign in with " + p.Label() }

// Scopes are what Signoff asks the provider for.
var Scopes = []string{"openid", "email", "profile"}

// CallbackPath is the redirect URI's path, one for every school.
const CallbackPath = "/sign-in/sso/callback"

// Connection is a school's single sign-on.
type Connection struct {
	SchoolID     int64
	Provider     Provider
	TenantID     string // Microsoft: the directory (tenant) ID, a GUID
	GoogleDomain string // Google: the Workspace domain (the hd claim)
	IssuerURL    string // Generic: the issuer; for the others it follows from the tenant
	ClientID     string
	// ClientSecret is only ever written: a Connection read back has
	// HasSecret instead. Left empty when saving, the stored one is kept.
	ClientSecret string
	HasSecret    bool
	EmailDomains []string
	// RequiredRoles are the staff roles who must sign in this way.
	// Administrators always keep their password.
	RequiredRoles []people.StaffRole
	UpdatedAt     time.Time
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// ParseDomains reads a list of email domains as typed: separated by
// commas, spaces or new lines, with or without a leading @.
func ParseDomains(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		f = strings.TrimPrefix(f, "@")
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Validate checks and tidies a connection before it is saved. isNew says
// there is no stored secret to keep.
func (c *Connection) Validate(isNew bool) error {
	var v apperr.Validation
	c.TenantID = strings.ToLower(strings.TrimSpace(c.TenantID))
	c.GoogleDomain = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(c.GoogleDomain), "@"))
	c.IssuerURL = strings.TrimRight(strings.TrimSpace(c.IssuerURL), "/")
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.ClientSecret = strings.TrimSpace(c.ClientSecret)
	switch c.Provider {
	case Microsoft:
		v.Check(guidRE.MatchString(c.TenantID), "tenant_id",
			"Enter the Directory (tenant) ID from Microsoft Entra ID, like 72f988bf-86f1-41af-91ab-2d7cd011db47")
		c.GoogleDomain, c.IssuerURL = "", ""
	case Google:
		v.Check(len(c.GoogleDomain) <= 253 && domainRE.MatchString(c.GoogleDomain), "google_domain",
			"Enter your Google Workspace domain, like school.example.sch.uk")
		c.TenantID, c.IssuerURL = "", ""
	case Generic:
		v.Check(validIssuer(c.IssuerURL), "issuer_url",
			"Enter the provider's issuer URL, starting https://, like https://login.example.org")
		c.TenantID, c.GoogleDomain = "", ""
	default:
		v.Add("provider", "Choose Microsoft, Google or another OpenID provider")
	}
	switch {
	case c.ClientID == "":
		v.Add("client_id", "Enter the client (application) ID")
	case len(c.ClientID) > 255:
		v.Add("client_id", "The client ID must be 255 characters or fewer")
	}
	switch {
	case c.ClientSecret == "" && isNew:
		v.Add("client_secret", "Enter the client secret")
	case len(c.ClientSecret) > 500:
		v.Add("client_secret", "The client secret must be 500 characters or fewer")
	}
	switch {
	case len(c.EmailDomains) == 0:
		v.Add("email_domains", "Enter at least one email domain, like school.example.sch.uk")
	case len(c.EmailDomains) > 20:
		v.Add("email_domains", "Enter 20 email domains or fewer")
	default:
		for _, d := range c.EmailDomains {
			if len(d) > 253 || !domainRE.MatchString(d) {
				v.Add("email_domains", "“"+d+"” is not an email domain: enter the part after the @, like school.example.sch.uk")
				break
			}
		}
	}
	for _, r := range c.RequiredRoles {
		if !r.Valid() {
			v.Add("required_roles", "Choose roles from the list")
			break
		}
	}
	return v.Err()
}

// validIssuer accepts https URLs, and http on this machine (for a
// provider run locally, as the tests do).
func validIssuer(s string) bool {
	u, err := url.Parse(s)
	if err != nil || len(s) > 500 || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	h := u.Hostname()
	return u.Scheme == "http" && (h == "127.0.0.1" || h == "localhost" || h == "::1")
}

// Requires reports whether a member of staff with role must sign in with
// the provider.
func (c Connection) Requires(role people.StaffRole) bool {
	return slices.Contains(c.RequiredRoles, role)
}

// OwnsDomain reports whether email's domain belongs to the school.
func (c Connection) OwnsDomain(email string) bool {
	at := strings.LastIndexByte(email, '@')
	return at > 0 && slices.Contains(c.EmailDomains, strings.ToLower(email[at+1:]))
}
