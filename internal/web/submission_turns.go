package web

import (
	"context"
	"fmt"
)

// DefaultSubmissionsAtOnce is how many submissions write at once when
// Config.SubmissionsAtOnce is zero: enough to keep a database of two to
// four cores busy, few enough that its signers do not queue on one
// another's rows.
const DefaultSubmissionsAtOnce = 6

// inTurn runs f, a submission that writes a signature or a consent record,
// when one of the server's turns is free; submissions that arrive while
// every turn is taken wait for one in the order they came, for as long as
// the request may run. When a whole staff signs a newly published policy at
// once, every signature of a form adds to the same few rows of its figures
// (migration 0017), and a few at a time commit sooner than all of them
// jostling: in make bench at 50 in flight, 6 turns took the signature POST's
// 99th percentile from about 1.8 to 1.5 times its median, at the same
// throughput. A request that runs out of time while waiting saves nothing
// and gets the "taking too long" page (fail).
func (s *Server) inTurn(ctx context.Context, f func() error) error {
	if err := s.turns.Acquire(ctx, 1); err != nil {
		return fmt.Errorf("web: waiting for a turn to save: %w", err)
	}
	defer s.turns.Release(1)
	return f()
}
