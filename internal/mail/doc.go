// Package mail is Signoff's outgoing email: an outbox in the database and
// a sender that delivers it over SMTP (github.com/wneessen/go-mail).
//
// Every message goes into the outbox first, with Enqueue, inside the
// transaction of the change that causes it, so the change and its email
// commit or roll back together. A DedupeKey makes enqueuing harmless
// twice (pressing a button twice sends one email).
//
// Enqueue also inserts, in the same transaction, the River job that sends
// the message (SendArgs, "mail_send", on the mail queue; see
// internal/jobs), unique per message while it is unfinished. SendWorker
// runs it on whichever server fetches it: Sender.Deliver locks the outbox
// row, takes one of the minute's Config.PerMinute sends from a counter row
// that all servers share (when none is left the job is snoozed to the next
// minute, which is not an attempt), sends over SMTP (go-mail, STARTTLS or
// TLS), and records the outcome on the row in the same transaction:
// sent_at, or attempts, last_error and the next try after 1, 2, 4, ...
// minutes (at most an hour apart; River retries the job on that
// schedule), giving up (failed_at) after MaxAttempts. The office can
// Retry a failed message. Delivery is at least once: see Deliver for the
// one moment a message can go twice. Times come from db.Now(). Logs name
// the outbox id, school and kind, never the body, which may hold sign-in
// links. A periodic sweep (SweepArgs) gives a job to any due message that
// has none: those queued while no SMTP server was set.
//
// With no SMTP server, nothing is sent: the send jobs complete without
// touching the messages, which wait in the outbox, and the office reads or
// prints them through Store (List and Get, scoped to one school); the
// outbox page says that no mail server is set up (Config.Enabled, passed
// to the web server as web.Config.MailEnabled).
//
// # Wiring
//
// Settings, read in cmd/signoff's loadConfig:
//
//	SIGNOFF_SMTP_HOST        Config.Host; empty: no SMTP, messages wait in the outbox
//	SIGNOFF_SMTP_PORT        Config.Port; empty: 587 (starttls), 465 (tls), 25 (none)
//	SIGNOFF_SMTP_USERNAME    Config.Username; empty: no SMTP AUTH
//	SIGNOFF_SMTP_PASSWORD    Config.Password
//	SIGNOFF_SMTP_FROM        Config.From, e.g. office@school.example; required with a host
//	SIGNOFF_SMTP_FROM_NAME   Config.FromName, e.g. Signoff or the trust's name
//	SIGNOFF_SMTP_TLS         Config.TLS: starttls (default), tls or none
//	SIGNOFF_MAIL_PER_MINUTE  Config.PerMinute (across all servers); empty: 60
//
// internal/background registers SendWorker and SweepWorker with a Sender
// for that Config.
package mail
