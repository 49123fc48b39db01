package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"signoff/internal/database"
	"signoff/internal/evidence"
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
		rep, err := evidence.CheckAll(ctx, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "audit chains: %d entries in %d chains\n", rep.Entries, rep.Chains)
		fmt.Fprintf(stdout, "records: %d (%d sealed and intact, %d made before seals, %d erased for retention)\n",
			rep.Records, rep.Sealed, rep.Before, rep.Erased)
		fmt.Fprintf(stdout, "published texts: %d checked\n", rep.Texts)
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
