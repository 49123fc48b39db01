// Package web is Signoff's HTTP side: one route table, middleware, one
// handler file per page action. Handlers parse the request, authorise it,
// call the domain stores and render a flat view model from templates.
package web

import (
	"cmp"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/semaphore"

	"signoff/internal/auth"
	"signoff/internal/consent"
	"signoff/internal/database"
	"signoff/internal/evidence"
	"signoff/internal/letters"
	"signoff/internal/mail"
	"signoff/internal/mis"
	"signoff/internal/onboarding"
	"signoff/internal/people"
	"signoff/internal/policies"
	"signoff/internal/ratelimit"
	"signoff/internal/retention"
	"signoff/internal/reviews"
	"signoff/internal/schools"
	"signoff/internal/signing"
	"signoff/internal/signkey"
	"signoff/internal/sso"
	"signoff/internal/subjectaccess"
	"signoff/internal/tracking"
	"signoff/internal/tsa"
)

// Config is what the web server needs from the outside.
type Config struct {
	// SessionKeys sign and encrypt the session cookie: a 32- or 64-byte
	// hash key, then a 32-byte encryption key.
	SessionKeys [][]byte
	// SecureCookies marks cookies Secure and sends HSTS: set when the site
	// is served over TLS (directly or behind a proxy).
	SecureCookies bool
	// BaseURL is the site's public address, for links in emails and
	// letters, e.g. "https://signoff.example.sch.uk" (no trailing slash).
	BaseURL string
	// MailEnabled says an SMTP server is configured (else mail waits in
	// the outbox for the office).
	MailEnabled bool
	// SecretKey (32 bytes) seals the schools' single sign-on client
	// secrets. Without it a random key is used, so secrets saved do not
	// survive a restart (tests only: cmd/signoff always gives one).
	SecretKey []byte
	Log       *slog.Logger
	// ObserveRequest, when set, is told of every request served: its
	// method, route pattern ("/admin/outbox/{messageID}"; "unmatched" for
	// none), status and duration (the operator's metrics).
	ObserveRequest func(method, route string, status int, d time.Duration)
	// TrustedProxies are the addresses of the reverse proxies in front of
	// Signoff: only from them is X-Forwarded-For believed (the client's
	// address for the audit log and the rate limits). Empty: the header is
	// ignored and the peer's address is the client's.
	TrustedProxies []netip.Prefix
	// PDFSigner digitally signs every signed copy issued (nil: unsigned).
	PDFSigner *signkey.PDFSigner

	// RequestTimeout bounds each request's work (DefaultRequestTimeout
	// when zero).
	RequestTimeout time.Duration
	// PageCacheBytes bounds the page cache of the dashboards
	// (pagecache.go): DefaultPageCacheBytes when zero, off when negative.
	PageCacheBytes int64
	// SubmissionsAtOnce is how many signatures and consent records are
	// saved at once, the rest waiting their turn (submission_turns.go):
	// DefaultSubmissionsAtOnce when zero.
	SubmissionsAtOnce int
}

// Server holds the stores and settings every handler uses.
type Server struct {
	db      *database.DB
	log     *slog.Logger
	cookies *sessions.CookieStore
	secure  bool
	baseURL string
	mailOn  bool
	observe func(method, route string, status int, d time.Duration)
	proxies []netip.Prefix
	signer  *signkey.PDFSigner
	limits  *ratelimit.Limiter
	mail    *mail.Store
	mis     *mis.Store
	consent *consent.Store

	// requestTimeout bounds each request's work.
	requestTimeout time.Duration
	// turns bounds the submissions saving at once (submission_turns.go).
	turns *semaphore.Weighted

	schools    *schools.Store
	people     *people.Store
	accounts   *auth.Store
	policies   *policies.Store
	signing    *signing.Store
	texts      *lru.Cache[textKey, string] // published versions' HTML (published_text.go)
	pages      *pageCache                  // kept dashboards (pagecache.go); nil when off
	onboarding *onboarding.Store
	sso        *sso.Store
	tracking   *tracking.Store
	retention  *retention.Store
	evidence   *evidence.Store
	// anchorer makes anchors with the installation's key (nil without one).
	anchorer      *evidence.Anchorer
	subjectAccess *subjectaccess.Store
	reviewFeeds   *reviews.Feeds
	letters       *letters.Held
}

// New returns a Server over db.
func New(db *database.DB, cfg Config) *Server {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	cookies := sessions.NewCookieStore(cfg.SessionKeys...)
	useCookieValues(cookies)
	cookies.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   12 * 60 * 60,
		HttpOnly: true,
		Secure:   cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	key := cfg.SecretKey
	if len(key) != 32 {
		if len(key) != 0 {
			log.Error("the secret key must be 32 bytes: using a random one; single sign-on secrets will not survive a restart")
		}
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	accounts := auth.NewStore(db)
	ssoStore, err := sso.NewStore(db, accounts, key, cfg.BaseURL)
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	accounts.RequireSSO = ssoStore.RequiredMessage
	held, err := letters.NewHeld(db, key)
	if err != nil {
		panic(err) // as above
	}
	ev := evidence.NewStore(db, cfg.BaseURL)
	ev.Signer = cfg.PDFSigner
	s := &Server{
		requestTimeout: cfg.RequestTimeout,
		turns:          semaphore.NewWeighted(int64(cmp.Or(max(cfg.SubmissionsAtOnce, 0), DefaultSubmissionsAtOnce))),

		db:       db,
		log:      slog.New(requestIDHandler{log.Handler()}),
		observe:  cfg.ObserveRequest,
		proxies:  cfg.TrustedProxies,
		cookies:  cookies,
		secure:   cfg.SecureCookies,
		baseURL:  strings.TrimRight(cfg.BaseURL, "/"),
		mailOn:   cfg.MailEnabled,
		signer:   cfg.PDFSigner,
		limits:   ratelimit.New(db),
		mail:     mail.NewStore(db),
		mis:      mis.NewStore(db),
		consent:  consent.NewStore(db),
		schools:  schools.NewStore(db),
		people:   people.NewStore(db),
		accounts: accounts,
		sso:      ssoStore,
		letters:  held,
		policies: policies.NewStore(db),
		signing:  signing.NewStore(db),
		texts:    newTextCache(),
		pages:    newPageCache(cmp.Or(cfg.PageCacheBytes, DefaultPageCacheBytes)),

		onboarding: onboarding.NewStore(db),

		tracking:      tracking.NewStore(db),
		retention:     retention.NewStore(db),
		evidence:      ev,
		subjectAccess: subjectaccess.NewStore(db),
		reviewFeeds:   reviews.NewFeeds(db),
	}
	if s.pages != nil {
		accounts.Marked = s.pages.marked // a session's mark changes no kept page
	}
	// Each new connection runs a form's export once before serving: its
	// first look on a fresh connection then costs what later ones do.
	db.WarmWith(s.tracking.WarmReads)
	if k := cfg.PDFSigner; k != nil && k.Key != nil {
		s.anchorer = &evidence.Anchorer{DB: db, Key: k.Key, Log: s.log.With("component", "anchors")}
		if k.TSAURL != "" {
			s.anchorer.TSA = &tsa.Client{URL: k.TSAURL}
		}
	}
	return s
}

// SSO is the single sign-on store (tests point it at their provider).
func (s *Server) SSO() *sso.Store { return s.sso }
