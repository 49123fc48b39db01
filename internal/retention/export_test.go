package retention

import "signoff/internal/database"

// NewStoreBatch is NewStore erasing n records (or scans, or people) a
// statement, so that a test's few records span several batches.
func NewStoreBatch(db *database.DB, n int) *Store { return &Store{db: db, batch: n} }
