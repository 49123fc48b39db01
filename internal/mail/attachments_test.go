package mail_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"signoff/internal/database/dbtest"
	"signoff/internal/mail"
	"signoff/internal/mail/mailtest"
)

func TestAttachmentsAreSent(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	smtp := mailtest.Start(t)
	pdf := []byte("%PDF-1.4\n% a receipt\n")
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		_, _, err := mail.Enqueue(ctx, tx, time.Now(), mail.Message{To: "parent@example.org", Subject: "Receipt", Text: "Thank you.",
			Attachments: []mail.Attachment{{Filename: "receipt.pdf", ContentType: "application/pdf", Data: pdf}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sender := mail.NewSender(db, smtp.Config(), slog.Default())
	if sent, _, err := sendDue(t, db, sender); err != nil || sent != 1 {
		t.Fatalf("send: %d %v", sent, err)
	}
	msgs := smtp.WaitMessages(t, 1, 10*time.Second)
	if len(msgs) != 1 || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].FileName != "receipt.pdf" ||
		!strings.HasPrefix(msgs[0].Attachments[0].ContentType, "application/pdf") || msgs[0].Attachments[0].Size != len(pdf) {
		t.Fatalf("the attachment did not arrive as sent: %+v", msgs[0].Attachments)
	}
}
