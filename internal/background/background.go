// Package background is the one list of Signoff's background work: every
// River worker and every periodic job, registered by Register. Domain
// packages own their job args and workers (see internal/jobs for how to
// write one); this file only wires them up. To add periodic work, add a
// jobs.Add line for its worker and a reg.Every line for its schedule.
package background

import (
	"log/slog"
	"time"

	"signoff/internal/auth"
	"signoff/internal/database"
	"signoff/internal/evidence"
	"signoff/internal/jobs"
	"signoff/internal/mail"
	"signoff/internal/mis"
	"signoff/internal/retention"
	"signoff/internal/reviews"
	"signoff/internal/signkey"
	"signoff/internal/tracking"
	"signoff/internal/tsa"
)

// Deps is what the workers need.
type Deps struct {
	DB      *database.DB
	BaseURL string // the site's address, for links in emails
	Log     *slog.Logger
	Mail    mail.Config // the SMTP server; without a host, messages wait in the outbox
	// SigningKey signs the audit chains' anchors (nil: no anchoring), and
	// TSAURL time-stamps them ("" for none).
	SigningKey *signkey.Key
	TSAURL     string
}

// Register adds every worker and periodic job to reg.
func Register(reg *jobs.Registry, d Deps) {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}

	// Email: one job per message (enqueued by mail.Enqueue with the
	// outbox row), and a sweep for waiting messages that have no job.
	sender := mail.NewSender(d.DB, d.Mail, log)
	jobs.Add(reg, &mail.SendWorker{Sender: sender})
	jobs.Add(reg, &mail.SweepWorker{Sender: sender})
	reg.Every("mail_sweep", 5*time.Minute, mail.SweepArgs{})

	// Policy reviews: the day's scan (once a day; the job looks hourly).
	jobs.Add(reg, &reviews.Worker{Scheduler: &reviews.Scheduler{DB: d.DB, BaseURL: d.BaseURL, Log: log.With("component", "reviews")}})
	reg.Every("review_scan", time.Hour, reviews.ScanArgs{})

	// Automatic reminders: the rounds due today.
	jobs.Add(reg, &tracking.ReminderWorker{Scheduler: &tracking.Scheduler{Store: tracking.NewStore(d.DB), BaseURL: d.BaseURL, Log: log.With("component", "reminders")}})
	reg.Every("reminder_scan", 15*time.Minute, tracking.ReminderArgs{})
	// Who owes what: the maintained obligations checked against the
	// derivation from scratch (any difference logged and put right).
	jobs.Add(reg, &tracking.CheckWorker{Store: tracking.NewStore(d.DB), Log: log.With("component", "obligations")})
	reg.Every("obligations_check", 24*time.Hour, tracking.CheckArgs{})

	// Retention: what has reached the end of its period, once a day (the job looks hourly).
	jobs.Add(reg, &retention.Worker{Scheduler: &retention.Scheduler{Store: retention.NewStore(d.DB), DB: d.DB, Log: log.With("component", "retention")}})
	reg.Every("retention_run", time.Hour, retention.Args{})

	// Anchors of the audit chains: hourly when changed; time stamps retried.
	registerAnchors(reg, d, log)

	// Clean-up: expired sessions, used sign-in links, old rate-limit counters.
	jobs.Add(reg, &auth.CleanUpWorker{Store: auth.NewStore(d.DB), Log: log.With("component", "cleanup")})
	reg.Every("auth_cleanup", time.Hour, auth.CleanUpArgs{})
	// MIS exports uploaded but never imported: their files go after a day.
	jobs.Add(reg, &mis.CleanUpWorker{Store: mis.NewStore(d.DB), Log: log.With("component", "cleanup")})
	reg.Every("mis_upload_cleanup", time.Hour, mis.CleanUpArgs{})
}

// registerAnchors adds the hourly anchoring of the audit chains and the
// retry of pending time stamps, when there is a key to sign with.
func registerAnchors(reg *jobs.Registry, d Deps, log *slog.Logger) {
	if d.SigningKey == nil {
		return
	}
	an := &evidence.Anchorer{DB: d.DB, Key: d.SigningKey, Log: log.With("component", "anchors")}
	if d.TSAURL != "" {
		an.TSA = &tsa.Client{URL: d.TSAURL}
	}
	jobs.Add(reg, &evidence.AnchorWorker{Anchorer: an})
	reg.Every("audit_anchor", time.Hour, evidence.AnchorArgs{})
	jobs.Add(reg, &evidence.AnchorRetryWorker{Anchorer: an})
	reg.Every("audit_anchor_retry", 5*time.Minute, evidence.AnchorRetryArgs{})
	if d.TSAURL != "" {
		// Stored signed copies signed while the authority was down.
		ev := evidence.NewStore(d.DB, d.BaseURL)
		ev.Signer = &signkey.PDFSigner{Key: d.SigningKey, TSAURL: d.TSAURL, Log: log.With("component", "pdf-signing")}
		jobs.Add(reg, &evidence.CopyStampWorker{Store: ev})
		reg.Every("signed_copy_stamp", 15*time.Minute, evidence.CopyStampArgs{})
	}
}

// NewRegistry returns a Registry with everything registered.
func NewRegistry(d Deps) *jobs.Registry {
	reg := jobs.NewRegistry()
	Register(reg, d)
	return reg
}
