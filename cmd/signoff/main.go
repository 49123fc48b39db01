// Command signoff is the one binary: the web server and the commands that
// manage its database. It alone reads the environment.
//
//	signoff serve [--demo]   run the web server (migrating first)
//	signoff migrate          apply database migrations
//	signoff demo             load the demo school into an empty database
//	signoff school add ...   create a school and its first administrator
//	signoff trust add|admin  create a trust, name its administrators
//	signoff audit verify     check the audit log's hash chain
//	signoff version          print the version
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata"

	"signoff/internal/apperr"
	"signoff/internal/audit"
	"signoff/internal/auth"
	"signoff/internal/background"
	"signoff/internal/database"
	"signoff/internal/demo"
	"signoff/internal/jobs"
	"signoff/internal/mail"
	"signoff/internal/metrics"
	"signoff/internal/onboarding"
	"signoff/internal/ops"
	"signoff/internal/schools"
	"signoff/internal/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// config is every setting, read once from the environment.
type config struct {
	DatabaseURL   string // DATABASE_URL; empty: run a private cluster in DataDir
	MigrateURL    string // SIGNOFF_MIGRATE_DATABASE_URL: the owner, for migrations and grants
	SigningCert   string // SIGNOFF_SIGNING_CERT: a PKCS#12 file; empty: the data folder's generated key
	SigningPass   string // SIGNOFF_SIGNING_CERT_PASSWORD
	TSAURL        string // SIGNOFF_TSA_URL: an RFC 3161 time-stamping authority
	Addr          string // SIGNOFF_ADDR
	DataDir       string // SIGNOFF_DATA
	SessionKey    string // SIGNOFF_SESSION_KEY
	SecretKey     string // SIGNOFF_SECRET_KEY
	SecureCookies bool   // SIGNOFF_SECURE_COOKIES
	LogLevel      string // SIGNOFF_LOG_LEVEL
	BaseURL       string // SIGNOFF_BASE_URL
	JobsPollOnly  bool   // SIGNOFF_JOBS_POLL_ONLY
	MetricsAddr   string // SIGNOFF_METRICS_ADDR; empty: no operator listener
	MetricsToken  string // SIGNOFF_METRICS_TOKEN
	// MemoryLimit is SIGNOFF_MEMORY_LIMIT (MiB; web.DefaultMemoryLimit
	// when unset): the server's soft limit for the Go runtime. 0: none,
	// or GOMEMLIMIT is set and the runtime has applied it already.
	MemoryLimit int64
	// PageCacheBytes is SIGNOFF_PAGE_CACHE_MB in bytes; 0 when unset
	// (web.Config's zero: its default size), -1 when it is 0: the page
	// cache is off.
	PageCacheBytes int64
	// SubmissionsAtOnce is SIGNOFF_SUBMISSIONS_AT_ONCE; 0 when unset
	// (web.DefaultSubmissionsAtOnce).
	SubmissionsAtOnce int
	// TrustedProxies is SIGNOFF_TRUSTED_PROXIES: CIDRs (or addresses) of
	// the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	Mail           mail.Config
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL: getenv("DATABASE_URL"),
		MigrateURL:  getenv("SIGNOFF_MIGRATE_DATABASE_URL"),
		SigningCert: getenv("SIGNOFF_SIGNING_CERT"),
		SigningPass: getenv("SIGNOFF_SIGNING_CERT_PASSWORD"),
		TSAURL:      getenv("SIGNOFF_TSA_URL"),
		Addr:        getenv("SIGNOFF_ADDR"),
		DataDir:     getenv("SIGNOFF_DATA"),
		SessionKey:  getenv("SIGNOFF_SESSION_KEY"),
		SecretKey:   getenv("SIGNOFF_SECRET_KEY"),
		LogLevel:    getenv("SIGNOFF_LOG_LEVEL"),
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.TSAURL != "" {
		if u, err := url.Parse(c.TSAURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, errors.New("SIGNOFF_TSA_URL must be the time-stamping authority's address, like https://tsa.example.org/tsr")
		}
	}
	if c.MigrateURL != "" && c.DatabaseURL == "" {
		return c, errors.New("SIGNOFF_MIGRATE_DATABASE_URL needs DATABASE_URL (the application's role) as well")
	}
	c.BaseURL = strings.TrimRight(getenv("SIGNOFF_BASE_URL"), "/")
	if c.BaseURL == "" {
		c.BaseURL = "http://localhost" + portSuffix(c.Addr)
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, errors.New("SIGNOFF_BASE_URL must be the site's address, like https://signoff.example.sch.uk")
	}
	c.Mail = mail.Config{
		Host:     getenv("SIGNOFF_SMTP_HOST"),
		Username: getenv("SIGNOFF_SMTP_USERNAME"),
		Password: getenv("SIGNOFF_SMTP_PASSWORD"),
		From:     getenv("SIGNOFF_SMTP_FROM"),
		FromName: getenv("SIGNOFF_SMTP_FROM_NAME"),
		TLS:      getenv("SIGNOFF_SMTP_TLS"),
	}
	for name, dst := range map[string]*int{"SIGNOFF_SMTP_PORT": &c.Mail.Port, "SIGNOFF_MAIL_PER_MINUTE": &c.Mail.PerMinute} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%s must be a whole number", name)
			}
			*dst = n
		}
	}
	if err := c.Mail.Validate(); err != nil {
		return c, fmt.Errorf("mail settings: %w", err)
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	switch strings.ToLower(getenv("SIGNOFF_SECURE_COOKIES")) {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		c.SecureCookies = true
	default:
		return c, errors.New("SIGNOFF_SECURE_COOKIES must be true or false")
	}
	c.MetricsAddr = strings.TrimSpace(getenv("SIGNOFF_METRICS_ADDR"))
	c.MetricsToken = strings.TrimSpace(getenv("SIGNOFF_METRICS_TOKEN"))
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return c, errors.New("SIGNOFF_METRICS_TOKEN must be at least 16 characters (for example: openssl rand -hex 32)")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return c, errors.New("SIGNOFF_METRICS_ADDR must be an address like 127.0.0.1:9090")
		}
	}
	for _, f := range strings.FieldsFunc(getenv("SIGNOFF_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return c, fmt.Errorf("SIGNOFF_TRUSTED_PROXIES: %q is not an address or CIDR like 10.0.0.0/8", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("SIGNOFF_MEMORY_LIMIT"))); {
	case getenv("GOMEMLIMIT") != "":
	case v == "":
		c.MemoryLimit = web.DefaultMemoryLimit
	case v == "off":
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 64 || n > 1<<30 {
			return c, errors.New("SIGNOFF_MEMORY_LIMIT must be a number of MiB (at least 64), or off")
		}
		c.MemoryLimit = n << 20
	}
	if v := strings.TrimSpace(getenv("SIGNOFF_PAGE_CACHE_MB")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 4096 {
			return c, errors.New("SIGNOFF_PAGE_CACHE_MB must be a number of MiB from 0 (off) to 4096")
		}
		c.PageCacheBytes = n << 20
		if n == 0 {
			c.PageCacheBytes = -1
		}
	}
	if v := strings.TrimSpace(getenv("SIGNOFF_SUBMISSIONS_AT_ONCE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return c, errors.New("SIGNOFF_SUBMISSIONS_AT_ONCE must be a whole number from 1 to 1000")
		}
		c.SubmissionsAtOnce = n
	}
	switch strings.ToLower(getenv("SIGNOFF_JOBS_POLL_ONLY")) {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		c.JobsPollOnly = true
	default:
		return c, errors.New("SIGNOFF_JOBS_POLL_ONLY must be true or false")
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "info", "debug", "warn", "error":
	default:
		return c, errors.New("SIGNOFF_LOG_LEVEL must be debug, info, warn or error")
	}
	return c, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "signoff:", err)
		return 2
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, log, args[1:], stdout)
	case "migrate":
		_, n, closeAll, err := openDatabase(ctx, cfg, log, true, false)
		if err != nil {
			log.Error("migrate", "err", err)
			return 1
		}
		closeAll()
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return 0
	case "grants":
		role := database.AppRole
		if len(args) > 1 {
			role = args[1]
		} else if cfg.DatabaseURL != "" {
			role = database.UserOf(cfg.DatabaseURL)
		}
		fmt.Fprintf(stdout, "-- Run as the owner of Signoff's tables, after `signoff migrate`, to let %s run the server.\n", role)
		fmt.Fprint(stdout, database.GrantSQL(role))
		return 0
	case "demo":
		db, _, closeAll, err := openDatabase(ctx, cfg, log, true, false)
		if err != nil {
			log.Error("demo", "err", err)
			return 1
		}
		defer closeAll()
		if demoOnly, err := isDemoOnly(ctx, db); err != nil {
			log.Error("demo", "err", err)
			return 1
		} else if !demoOnly {
			fmt.Fprintln(stderr, "signoff demo: this database holds a real school, so the demo school is not loaded beside it (use an empty database, or another SIGNOFF_DATA folder, to try the demo)")
			return 1
		}
		if err := loadDemo(ctx, db, stdout, cfg.BaseURL); err != nil {
			log.Error("demo", "err", err)
			return 1
		}
		return 0
	case "verify":
		return verifyCommand(cfg, args[1:], stdout, stderr)
	case "health":
		return health(cfg, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "signoff", version)
		return 0
	case "help", "--help", "-h":
		usage(stdout)
		return 0
	}
	if c, ok := commands[args[0]]; ok {
		return c(ctx, cfg, log, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "signoff: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// commands are the commands that take the database's settings, a log and
// their own arguments.
var commands = map[string]func(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int{
	"audit":     auditCommand,
	"school":    schoolCommand,
	"trust":     trustCommand,
	"import":    importCommand,
	"backup":    backupCommand,
	"restore":   restoreCommand,
	"reviews":   reviewsCommand,
	"jobs":      jobsCommand,
	"retention": retentionCommand,
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: signoff COMMAND

commands:
  serve [--demo]   run the web server; --demo loads the demo school first if the database is empty
  migrate          apply database migrations
  verify FILE.pdf  check a signed copy offline: its digital signature, time stamp and reference (no database)
  grants [ROLE]    print the SQL that gives ROLE (default: DATABASE_URL's user) the server's privileges
  demo             load the demo school (does nothing if it is there already; refused beside a real school)
  school add --name NAME --admin-email EMAIL [--admin-name NAME] [--slug SLUG] [--trust SLUG]
                   create a school and its first administrator; prints a set-up link (single use, 7 days)
  trust add --name NAME [--slug SLUG]
                   create a trust (a group of schools)
  trust admin --trust SLUG --email EMAIL [--name NAME]
                   make someone a trust administrator; prints a set-up link when they have no password
  audit verify     check the audit log's hash chain (exit 1 when broken)
  import FILE...   import MIS exports (staff, pupils, contacts CSV); --dry-run only shows the changes, --school SLUG picks the school
  backup FILE      write one archive of everything: the database (pg_dump, one snapshot) and the data folder's files
  restore FILE     bring a backup back into an empty data folder and an empty database
  reviews [--at YYYY-MM-DD]  list policies due for review soon or overdue on that day (default today)
  jobs [--all]     list background jobs queued, running and failed (--all: also finished ones), with counts by kind
  retention [--at YYYY-MM-DD] [--apply] [--school SLUG]
                   show what the retention schedule erases or removes on that day (default today); --apply does it (today only)
  health           ask the running server on SIGNOFF_ADDR whether it is ready (for container health checks)
  version          print the version

settings (environment): DATABASE_URL, SIGNOFF_ADDR, SIGNOFF_DATA, SIGNOFF_SESSION_KEY, SIGNOFF_SECRET_KEY,
SIGNOFF_SECURE_COOKIES, SIGNOFF_LOG_LEVEL (see README.md)
`)
}

// openDatabase connects the application to DATABASE_URL or, without it,
// to the private cluster in the data folder, starting it when it is not
// running; with migrate it applies the migrations first. Migrations and
// grants run as the schema's owner (the private cluster's superuser, or
// SIGNOFF_MIGRATE_DATABASE_URL); the returned connection is the
// application's role, which owns nothing (see internal/database/grants.go).
// Without SIGNOFF_MIGRATE_DATABASE_URL an external DATABASE_URL does both,
// as before, with a warning when its role owns the tables. close stops the
// cluster again only if this call started it (or restarted it). With
// supervise (serve), a private cluster whose postmaster dies is restarted
// until close is called.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger, migrate, supervise bool) (db *database.DB, applied int, closeAll func(), err error) {
	prepare := func(owner *database.DB, appRole string, create bool) error {
		if migrate {
			n, err := owner.Migrate(ctx)
			if err != nil {
				return err
			}
			applied = n
		}
		if create {
			if err := owner.EnsureRole(ctx, appRole, ""); err != nil {
				return err
			}
		}
		return owner.Grant(ctx, appRole)
	}
	if cfg.DatabaseURL != "" {
		if cfg.MigrateURL == "" {
			db, err := database.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return nil, 0, nil, err
			}
			if migrate {
				if applied, err = db.Migrate(ctx); err != nil {
					db.Close()
					return nil, 0, nil, err
				}
			}
			warnIfOwner(ctx, db, log)
			return db, applied, db.Close, nil
		}
		owner, err := database.Open(ctx, cfg.MigrateURL)
		if err != nil {
			return nil, 0, nil, err
		}
		err = prepare(owner, database.UserOf(cfg.DatabaseURL), false)
		owner.Close()
		if err != nil {
			return nil, 0, nil, err
		}
		db, err := database.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, 0, nil, err
		}
		return db, applied, db.Close, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, 0, nil, fmt.Errorf("data folder: %w", err)
	}
	cluster, err := database.NewCluster(filepath.Join(cfg.DataDir, "postgres"), log)
	if err != nil {
		return nil, 0, nil, err
	}
	started, err := cluster.Start(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	var restarted atomic.Bool
	stopCluster := func() {
		if started || restarted.Load() {
			if err := cluster.Stop(context.Background()); err != nil {
				log.Error("stopping PostgreSQL", "err", err)
			}
		}
	}
	if err := cluster.EnsureDatabase(ctx, "signoff"); err != nil {
		stopCluster()
		return nil, 0, nil, err
	}
	owner, err := database.Open(ctx, cluster.URL("signoff"))
	if err != nil {
		stopCluster()
		return nil, 0, nil, err
	}
	err = prepare(owner, database.AppRole, true)
	owner.Close()
	if err != nil {
		stopCluster()
		return nil, 0, nil, err
	}
	appURL, err := database.WithUser(cluster.URL("signoff"), database.AppRole, "")
	if err == nil {
		db, err = database.Open(ctx, appURL)
	}
	if err != nil {
		stopCluster()
		return nil, 0, nil, err
	}
	if !supervise {
		return db, applied, func() { db.Close(); stopCluster() }, nil
	}
	supCtx, stopSupervising := context.WithCancel(context.Background())
	supDone := make(chan struct{})
	go func() {
		defer close(supDone)
		_ = cluster.Supervise(supCtx, database.Supervision{OnRestart: func() { restarted.Store(true) }})
	}()
	return db, applied, func() { stopSupervising(); <-supDone; db.Close(); stopCluster() }, nil
}

// warnIfOwner warns when the application connects as a role that owns
// the signatures table (or is a superuser): it could then disable the
// triggers that keep evidence unchangeable.
func warnIfOwner(ctx context.Context, db *database.DB, log *slog.Logger) {
	if owns, err := db.OwnsEvidence(ctx); err == nil && owns {
		log.Warn("DATABASE_URL connects as the owner of the tables (or a superuser), which could change evidence: " +
			"set SIGNOFF_MIGRATE_DATABASE_URL to the owner and DATABASE_URL to a role that owns nothing (see README, \"Roles\")")
	}
}

func withDatabase(ctx context.Context, cfg config, log *slog.Logger, fn func(*database.DB) error) int {
	db, _, closeAll, err := openDatabase(ctx, cfg, log, false, false)
	if err != nil {
		log.Error("database", "err", err)
		return 1
	}
	defer closeAll()
	if err := fn(db); err != nil {
		log.Error("failed", "err", err)
		return 1
	}
	return 0
}

func loadDemo(ctx context.Context, db *database.DB, out io.Writer, baseURL string) error {
	res, err := demo.Load(ctx, db)
	if err != nil {
		return err
	}
	if res.AlreadyThere {
		fmt.Fprintf(out, "The demo school (%s) is already loaded.\n", res.School.Name)
	} else {
		fmt.Fprintf(out, "Loaded the demo school: %s, %d staff, %d pupils, %d signatures.\n", res.School.Name, res.Staff, res.Pupils, res.Signatures)
	}
	// A parent has no password: give the demo parent a fresh family link.
	parentID, parentName, err := demo.Parent(ctx, db, res.School.ID)
	if err != nil {
		return err
	}
	link, err := auth.NewStore(db).IssueFamilyLink(ctx, res.School.ID, parentID, audit.System("signoff demo"), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `
Demo sign-in details at %s/sign-in (password for every demo account: %s)
  office (admin):      %s
  member of staff:     %s
  headteacher:         %s
  governor (chair):    %s
  parent (%s), no password: open the family link %s/f/%s
`, baseURL, demo.Password, demo.AdminEmail, demo.StaffEmail, demo.HeadEmail, demo.GovernorEmail, parentName, baseURL, link.Token)
	return nil
}

func serve(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	withDemo := fs.Bool("demo", false, "load the demo school first when the database has no school")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	db, n, closeAll, err := openDatabase(ctx, cfg, log, true, true)
	if err != nil {
		log.Error("database", "err", err)
		return 1
	}
	defer closeAll()
	if n > 0 {
		log.Info("migrations applied", "count", n)
	}
	if *withDemo {
		demoOnly, err := isDemoOnly(ctx, db)
		if err != nil {
			log.Error("demo", "err", err)
			return 1
		}
		if demoOnly {
			if err := loadDemo(ctx, db, stdout, cfg.BaseURL); err != nil {
				log.Error("demo", "err", err)
				return 1
			}
		} else {
			log.Warn("--demo ignored: this database holds a real school, and the demo is only loaded into an empty database")
		}
	}
	// With no school yet, the site offers the first-run set-up page,
	// protected by a code that only this log shows.
	if code, err := onboarding.NewStore(db).NewSetupCode(ctx); err != nil {
		log.Error("set-up code", "err", err)
		return 1
	} else if code != "" {
		log.Info("no school yet: open the site and choose \"Set up your school\"", "setup_code", code)
		fmt.Fprintf(stdout, "\nThis installation has no school yet. Open %s/set-up-school and enter this set-up code:\n\n  %s\n\n(It works until a school exists, and a new one is made each time the server starts.)\n", cfg.BaseURL, code)
	}
	if !cfg.Mail.Enabled() {
		log.Info("no SMTP server set: messages wait in the outbox (Outbox in the admin menu)")
	} else {
		log.Info("sending mail", "host", cfg.Mail.Host, "port", cfg.Mail.Port, "tls", cfg.Mail.TLS, "per_minute", cfg.Mail.PerMinute)
	}
	pdfSigner, err := loadPDFSigner(cfg, log)
	if err != nil {
		log.Error("signing key", "err", err)
		return 1
	}
	reg := background.NewRegistry(background.Deps{DB: db, BaseURL: cfg.BaseURL, Log: log, Mail: cfg.Mail,
		SigningKey: pdfSigner.Key, TSAURL: cfg.TSAURL})
	worker, err := jobs.New(db, reg, jobs.Options{Log: riverLog(log), PollOnly: cfg.JobsPollOnly})
	if err != nil {
		log.Error("jobs", "err", err)
		return 1
	}
	if err := worker.Start(context.WithoutCancel(ctx)); err != nil {
		log.Error("jobs", "err", err)
		return 1
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := worker.Stop(stopCtx); err != nil {
			log.Error("stopping jobs", "err", err)
		}
	}()
	// Audit entries are linked into their school's chain right after they
	// commit (internal/audit); every server runs a chainer.
	chainCtx, stopChainer := context.WithCancel(context.WithoutCancel(ctx))
	chainerDone := make(chan struct{})
	go func() { defer close(chainerDone); audit.NewChainer(db, log).Run(chainCtx) }()
	defer func() { stopChainer(); <-chainerDone }()
	keys, err := sessionKeys(cfg)
	if err != nil {
		log.Error("session keys", "err", err)
		return 1
	}
	mets := metrics.New(db)
	if cfg.MetricsAddr != "" {
		stopOps, err := serveOps(ctx, cfg, log, mets, worker)
		if err != nil {
			log.Error("operator listener", "addr", cfg.MetricsAddr, "err", err)
			return 1
		}
		defer stopOps()
	}
	secretKey, err := secretKey(cfg)
	if err != nil {
		log.Error("secret key", "err", err)
		return 1
	}
	site := web.New(db, web.Config{SessionKeys: keys, SecureCookies: cfg.SecureCookies, BaseURL: cfg.BaseURL,
		MailEnabled: cfg.Mail.Enabled(), SecretKey: secretKey, Log: log, ObserveRequest: mets.ObserveRequest, TrustedProxies: cfg.TrustedProxies,
		PDFSigner: pdfSigner, PageCacheBytes: cfg.PageCacheBytes, SubmissionsAtOnce: cfg.SubmissionsAtOnce})
	mets.WatchPageCache(func() (uint64, uint64, int64) { st := site.PageCacheStats(); return st.Hits, st.Misses, st.Bytes })
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("listen", "addr", cfg.Addr, "err", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nSignoff %s is running at %s (Ctrl-C to stop)\n", version, displayURL(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		log.Error("server", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	return 0
}

// isDemoOnly reports whether the database holds no school but the demo
// school (or none at all).
func isDemoOnly(ctx context.Context, db *database.DB) (bool, error) {
	st := schools.NewStore(db)
	n, err := st.Count(ctx)
	if err != nil || n != 1 {
		return n == 0, err
	}
	_, err = st.BySlug(ctx, demo.SchoolSlug)
	if apperr.CodeOf(err) == apperr.NotFound {
		return false, nil
	}
	return err == nil, err
}

func displayURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := "localhost"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(tcp.Port)))
}

// sessionKeys returns the cookie keys: from SIGNOFF_SESSION_KEY (64 bytes
// as hex or base64: 32 to sign, 32 to encrypt), else from the data
// folder's session.key, created on first start.
func sessionKeys(cfg config) ([][]byte, error) {
	key, err := keyOf(cfg.SessionKey, "SIGNOFF_SESSION_KEY", cfg.DataDir, "session.key", 64)
	if err != nil {
		return nil, err
	}
	return [][]byte{key[:32], key[32:]}, nil
}

// secretKey returns the key that seals stored secrets (the schools'
// single sign-on client secrets): SIGNOFF_SECRET_KEY (32 bytes as hex or
// base64), else the data folder's secret.key, created on first start.
// Back it up with the database: without it the secrets cannot be read.
func secretKey(cfg config) ([]byte, error) {
	return keyOf(cfg.SecretKey, "SIGNOFF_SECRET_KEY", cfg.DataDir, "secret.key", 32)
}

// keyOf returns a key of size random bytes: the setting's value when it
// is set, else the file name in the data folder, written with a new key
// (hex) on first use. Either is hex or base64; label names the setting in
// the error.
func keyOf(setting, label, dataDir, name string, size int) ([]byte, error) {
	raw := strings.TrimSpace(setting)
	if raw == "" {
		path := filepath.Join(dataDir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			key := make([]byte, size)
			if _, err := rand.Read(key); err != nil {
				return nil, err
			}
			data = []byte(hex.EncodeToString(key))
			if err := os.MkdirAll(dataDir, 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
		} else if err != nil {
			return nil, err
		}
		raw = strings.TrimSpace(string(data))
	}
	key, err := hex.DecodeString(raw)
	if err != nil {
		key, err = base64.StdEncoding.DecodeString(raw)
	}
	if err != nil || len(key) != size {
		return nil, fmt.Errorf("%s (or data/%s) must be %d random bytes as hex or base64 (for example: openssl rand -hex %d)", label, name, size, size)
	}
	return key, nil
}

// health asks the server listening on cfg.Addr for /readyz.
func health(cfg config, stdout, stderr io.Writer) int {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		fmt.Fprintln(stderr, "signoff health:", err)
		return 1
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: 3 * time.Second}
	res, err := client.Get("http://" + net.JoinHostPort(host, port) + "/readyz")
	if err != nil {
		fmt.Fprintln(stderr, "signoff health:", err)
		return 1
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "signoff health: not ready:", res.Status)
		return 1
	}
	fmt.Fprintln(stdout, "ready")
	return 0
}

// portSuffix is ":8080" for an address like ":8080" or "0.0.0.0:8080".
func portSuffix(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "80" {
		return ""
	}
	return ":" + port
}

// riverLog is log for River's own lines: warnings and errors only, unless
// the log level is debug.
func riverLog(log *slog.Logger) *slog.Logger {
	if log.Enabled(context.Background(), slog.LevelDebug) {
		return log
	}
	return slog.New(minLevel{log.Handler(), slog.LevelWarn})
}

// minLevel drops records below its level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}
func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(a), m.level}
}
func (m minLevel) WithGroup(g string) slog.Handler { return minLevel{m.Handler.WithGroup(g), m.level} }

// serveOps starts the operator's listener (metrics and the job queue's
// UI) on cfg.MetricsAddr; stop shuts it down.
func serveOps(ctx context.Context, cfg config, log *slog.Logger, mets *metrics.Metrics, worker *jobs.Client) (stop func(), err error) {
	uiCtx, cancelUI := context.WithCancel(context.WithoutCancel(ctx))
	h, err := ops.New(uiCtx, ops.Config{Metrics: mets, River: worker.River(), Token: cfg.MetricsToken, Log: riverLog(log)})
	if err != nil {
		cancelUI()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		cancelUI()
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("operator listener", "err", err)
		}
	}()
	if cfg.MetricsToken == "" {
		log.Info("operator listener: /metrics (no token: bind SIGNOFF_METRICS_ADDR to a private address; the job queue UI needs SIGNOFF_METRICS_TOKEN)", "addr", ln.Addr().String())
	} else {
		log.Info("operator listener: /metrics and /riverui/, with the operator's token", "addr", ln.Addr().String())
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		cancelUI()
	}, nil
}
