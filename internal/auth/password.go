package auth

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"

	"signoff/internal/apperr"
	"signoff/internal/ratelimit"
)

// argonParams: 19 MiB and two passes (OWASP's minimum for argon2id). Each
// hash running holds its 19 MiB until it ends, so how many run at once is
// bounded (see hashing).
var argonParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// HashingLimits are the bounds on password hashing in this process: at
// most Running hashes at once (one per CPU Go uses), at most Queued more
// waiting for a turn, each for at most Wait. A hash that finds the queue
// full, or waits longer, fails with apperr.Busy: fifty sign-ins at once
// cost 2 × 19 MiB on two cores, not 50 × 19 MiB.
type HashingLimits struct {
	Running, Queued int
	Wait            time.Duration
}

// HashingLoad is what the hashing bound has seen since the process started.
type HashingLoad struct {
	HashingLimits
	Peak   int   // the most hashes that ran at once
	Turned int64 // hashes refused because the queue was full or the wait too long
}

// gate bounds concurrent argon2id work: a ticket to enter (running or
// queued) and then a slot to run.
type gate struct {
	limits  HashingLimits
	tickets chan struct{}
	slots   chan struct{}
	running atomic.Int64
	peak    atomic.Int64
	turned  atomic.Int64
}

func newGate(l HashingLimits) *gate {
	return &gate{limits: l, tickets: make(chan struct{}, l.Running+l.Queued), slots: make(chan struct{}, l.Running)}
}

// hashing is the process's one bound: memory is the process's, whichever
// Store or caller hashes.
var hashing = newGate(HashingLimits{Running: max(1, runtime.GOMAXPROCS(0)), Queued: 16 * max(1, runtime.GOMAXPROCS(0)), Wait: 5 * time.Second})

// PasswordHashing reports the bound and what it has seen (for the bench
// and the tests).
func PasswordHashing() HashingLoad {
	return HashingLoad{HashingLimits: hashing.limits, Peak: int(hashing.peak.Load()), Turned: hashing.turned.Load()}
}

// errBusy is the answer when too many passwords are being checked.
var errBusy = &apperr.Error{Code: apperr.Busy,
	Message: "Signoff is checking a lot of passwords at the moment. Wait a few seconds, then try again. Nothing has been changed."}

// do runs f when a slot is free; it refuses at once when the queue is full.
func (g *gate) do(f func()) error {
	select {
	case g.tickets <- struct{}{}:
	default:
		g.turned.Add(1)
		return errBusy
	}
	defer func() { <-g.tickets }()
	t := time.NewTimer(g.limits.Wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-t.C:
		g.turned.Add(1)
		return errBusy
	}
	defer func() { <-g.slots }()
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	f()
	return nil
}

// HashPassword hashes a password with argon2id, within the bound.
func HashPassword(pw string) (string, error) {
	var h string
	var err error
	if gerr := hashing.do(func() { h, err = argon2id.CreateHash(pw, argonParams) }); gerr != nil {
		return "", gerr
	}
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// checkPassword compares a password with a stored hash, within the bound.
func checkPassword(pw, hash string) (bool, error) {
	var ok bool
	var err error
	if gerr := hashing.do(func() { ok, err = argon2id.ComparePasswordAndHash(pw, hash) }); gerr != nil {
		return false, gerr
	}
	return ok, err
}

// dummyHash is compared against when no account matches, so that a
// sign-in takes as long for an unknown address as for a known one.
var dummyHash, _ = argon2id.CreateHash("not a real password", argonParams)

// notChecked answers a sign-in whose password could not be checked (the
// hashing was busy): the failure Begin counted is taken back, since
// nothing was tried.
func (s *Store) notChecked(ctx context.Context, err error, attempts ...*ratelimit.Attempt) error {
	for _, a := range attempts {
		_ = a.Succeeded(context.WithoutCancel(ctx))
	}
	return err
}
