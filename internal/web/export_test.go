package web

import "context"

// TakeTurn takes one of the server's turns to save (submission_turns.go),
// as a submission does, until release is called.
func (s *Server) TakeTurn(ctx context.Context) (release func(), err error) {
	if err := s.turns.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	return func() { s.turns.Release(1) }, nil
}
