// Package mail is Signoff's outgoing email: an outbox in the database and
// a sender that delivers it over SMTP (github.com/wneessen/go-mail).
//
// Every message goes into the outbox first, with Enqueue, inside the
// transaction of the change that causes it, so the change and its email
// commit or roll back together. A DedupeKey makes enqueuing harmless
// twice (pressing a button twice sends one email).
//
// When an SMTP server is configured, a Sender delivers due messages: it
// claims a batch with SELECT ... FOR UPDATE SKIP LOCKED (so any number of
// servers can run one), sends the batch over one SMTP connection at no
// more than Config.PerMinute messages a minute, and records each outcome
// on the row: sent_at, or attempts, last_error and the next try after 1,
// 2, 4, ... minutes (at most an hour apart), giving up (failed_at) after
// MaxAttempts. Times come from db.Now(). Logs name the outbox id, school
// and kind, never the body, which may hold sign-in links.
//
// With no SMTP server, nothing is sent: messages wait in the outbox, and
// the office reads or prints them through Store (List and Get, scoped to
// one school). A waiting message on a site without SMTP should be shown as
// "not sent: no mail server configured, print or forward it"
// (Sender.Enabled / Config.Enabled tell which).
//
// # Wiring (cmd/signoff)
//
// Settings, read in loadConfig:
//
//	SIGNOFF_SMTP_HOST        Config.Host; empty: no SMTP, messages wait in the outbox
//	SIGNOFF_SMTP_PORT        Config.Port; empty: 587 (starttls), 465 (tls), 25 (none)
//	SIGNOFF_SMTP_USERNAME    Config.Username; empty: no SMTP AUTH
//	SIGNOFF_SMTP_PASSWORD    Config.Password
//	SIGNOFF_SMTP_FROM        Config.From, e.g. office@school.example; required with a host
//	SIGNOFF_SMTP_FROM_NAME   Config.FromName, e.g. Signoff or the trust's name
//	SIGNOFF_SMTP_TLS         Config.TLS: starttls (default), tls or none
//	SIGNOFF_MAIL_PER_MINUTE  Config.PerMinute; empty: 60
//
// then, in serve, after migrations:
//
//	mailCfg := mail.Config{Host: ..., Port: port, ...}
//	if err := mailCfg.Validate(); err != nil { log.Error("mail settings", "err", err); return 1 }
//	sender := mail.NewSender(db, mailCfg, log)
//	mailCtx, stopMail := context.WithCancel(ctx)
//	mailDone := make(chan struct{})
//	go func() { defer close(mailDone); sender.Run(mailCtx) }()
//	// on shutdown, after srv.Shutdown and before the database closes:
//	stopMail(); <-mailDone
//
// and hand mail.NewStore(db) and sender.Enabled() to the web layer for the
// office's outbox page. Run returns promptly when its context ends; a
// message being sent at that moment is still recorded.
package mail
