// Package migrations holds the numbered SQL files that build the schema.
// They are embedded into the binary and applied in order by
// internal/database.Migrate.
package migrations

import "embed"

// Files holds every NNNN_name.sql file of this folder.
//
//go:embed *.sql
var Files embed.FS
