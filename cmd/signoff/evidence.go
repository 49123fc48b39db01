package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"signoff/internal/database"
	"signoff/internal/evidence"
	"signoff/internal/pdf"
	"signoff/internal/signkey"
)

// auditCommand is `signoff audit verify`: every chain, every record's
// seal, every published text and the anchors; exit 0 when all agree, 1
// naming each thing that disagrees.
func auditCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: signoff audit verify")
		return 2
	}
	code := 0
	rc := withDatabase(ctx, cfg, log, func(db *database.DB) error {
		var trusted *signkey.Key
		if cfg.SigningCert != "" || fileExists(filepath.Join(cfg.DataDir, signkey.CertFile)) {
			k, err := loadSigningKeyQuiet(cfg)
			if err != nil {
				return err
			}
			trusted = k
		}
		rep, err := evidence.CheckAll(ctx, db, trusted)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "audit chains: %d entries in %d chains\n", rep.Entries, rep.Chains)
		fmt.Fprintf(stdout, "records: %d (%d sealed and intact, %d made before seals, %d erased for retention)\n",
			rep.Records, rep.Sealed, rep.Before, rep.Erased)
		fmt.Fprintf(stdout, "published texts: %d checked\n", rep.Texts)
		fmt.Fprintf(stdout, "anchors: %d (%d time-stamped, %d waiting for a time stamp)\n", rep.Anchors.Anchors, rep.Anchors.TimeStamped, rep.Anchors.Pending)
		if rep.Anchors.Foreign > 0 {
			fmt.Fprintf(stdout, "anchors signed with a certificate that is not this installation's (an earlier key?): %d\n", rep.Anchors.Foreign)
		}
		schools := make([]int64, 0, len(rep.Anchors.Newest))
		for id := range rep.Anchors.Newest {
			schools = append(schools, id)
		}
		slices.Sort(schools)
		for _, id := range schools {
			a := rep.Anchors.Newest[id]
			fmt.Fprintf(stdout, "school %d: newest anchor that matches: %d of %s, entry %d (%d entries), %s\n", id, a.ID,
				a.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), a.EntryID, a.Entries, a.Status())
		}
		if !rep.OK() {
			for _, p := range rep.Problems {
				fmt.Fprintf(stdout, "broken: %s\n", p)
			}
			fmt.Fprintf(stdout, "audit log broken: %d problem(s)\n", len(rep.Problems))
			code = 1
			return nil
		}
		fmt.Fprintf(stdout, "audit log intact: %d entries checked\n", rep.Entries)
		return nil
	})
	if rc != 0 {
		return rc
	}
	return code
}

// loadPDFSigner loads the key that signs copies and anchors: the PKCS#12
// file SIGNOFF_SIGNING_CERT, or the data folder's (generated on first
// start).
func loadPDFSigner(cfg config, log *slog.Logger) (*signkey.PDFSigner, error) {
	k, err := loadSigningKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return &signkey.PDFSigner{Key: k, TSAURL: cfg.TSAURL, Log: log.With("component", "pdf-signing")}, nil
}

func loadSigningKey(cfg config, log *slog.Logger) (*signkey.Key, error) {
	if cfg.SigningCert != "" {
		data, err := os.ReadFile(cfg.SigningCert)
		if err != nil {
			return nil, fmt.Errorf("SIGNOFF_SIGNING_CERT: %w", err)
		}
		return signkey.LoadPKCS12(data, cfg.SigningPass)
	}
	name := "Signoff"
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		name = "Signoff at " + u.Host
	}
	k, created, err := signkey.LoadOrCreate(cfg.DataDir, name, time.Now())
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated the signing key and certificate for signed copies and anchors (keep them: they are in the backup)",
			"key", filepath.Join(cfg.DataDir, signkey.KeyFile), "certificate", filepath.Join(cfg.DataDir, signkey.CertFile),
			"fingerprint", k.Fingerprint())
	}
	return k, nil
}

// verifyCommand is `signoff verify FILE.pdf`: the file's digital
// signature, its time stamp and its reference, offline. It says whether
// the certificate is this installation's when the data folder (or
// SIGNOFF_SIGNING_CERT) holds one. Exit 0 when the signature is valid.
func verifyCommand(cfg config, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: signoff verify FILE.pdf")
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "signoff verify:", err)
		return 1
	}
	fmt.Fprintf(stdout, "file: %s\n", args[0])
	if ref := pdf.ReferenceOf(data); ref != "" {
		fmt.Fprintf(stdout, "reference: %s (check it against the school's record at /verify/%s)\n", ref, ref)
	} else {
		fmt.Fprintln(stdout, "reference: none (not a signed copy from Signoff)")
	}
	c := signkey.CheckPDF(data)
	switch {
	case !c.Signed:
		fmt.Fprintln(stdout, "signature: none")
		return 1
	case !c.Valid:
		fmt.Fprintf(stdout, "signature: BROKEN: %s\n", c.Problem)
		return 1
	}
	fmt.Fprintf(stdout, "signature: valid, by %q, certificate SHA-256 %s\n", c.Certificate.Subject.CommonName, signkey.Fingerprint(c.Certificate))
	if c.TimeStamped {
		fmt.Fprintf(stdout, "time stamp: %s, by %q\n", c.TimeStamp.Format(time.RFC3339), c.TimeStampBy.Subject.CommonName)
	} else {
		fmt.Fprintf(stdout, "time stamp: none (signed at %s by the signer's own clock)\n", c.SignedAt.Format(time.RFC3339))
	}
	if cfg.SigningCert != "" || fileExists(filepath.Join(cfg.DataDir, signkey.CertFile)) {
		if k, err := loadSigningKeyQuiet(cfg); err == nil {
			if k.Fingerprint() == signkey.Fingerprint(c.Certificate) {
				fmt.Fprintln(stdout, "certificate: this installation's")
			} else {
				fmt.Fprintln(stdout, "certificate: NOT this installation's")
			}
		}
	}
	return 0
}

func loadSigningKeyQuiet(cfg config) (*signkey.Key, error) {
	if cfg.SigningCert != "" {
		data, err := os.ReadFile(cfg.SigningCert)
		if err != nil {
			return nil, err
		}
		return signkey.LoadPKCS12(data, cfg.SigningPass)
	}
	k, _, err := signkey.LoadOrCreate(cfg.DataDir, "Signoff", time.Now())
	return k, err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
