package policies

import (
	"context"
	"fmt"
)

// Reviews returns a policy's reviews, newest first, every outcome (a
// policy's page shows only those that made no changes on their own): the
// tests' view of what was recorded.
func (s *Store) Reviews(ctx context.Context, schoolID, policyID int64) ([]Review, error) {
	rows, err := s.db.Pool.Query(ctx, reviewsSQL, schoolID, policyID)
	if err != nil {
		return nil, fmt.Errorf("policies: reviews: %w", err)
	}
	return collectReviews(rows)
}
