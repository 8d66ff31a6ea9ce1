package sqlstore

import (
	"context"
	"errors"
	"sync"
)

// Group commit (SQLite). SQLite has one writer: every write step holds
// the database's write lock, and with synchronous=FULL each commit waits
// for an fsync of the WAL. Under concurrent logins that fsync, not the
// statements, sets the pace. A Store with group commit on runs the write
// steps that queue up while a transaction commits as one transaction:
//
//   - steps run in the order they were submitted, one after the other, as
//     they would through the single writer connection (a user's steps,
//     which its caller makes one after the other, keep their order);
//   - each step runs inside a SAVEPOINT: a step that fails, or is refused
//     (a refusal rolls its changes back), is rolled back to its savepoint
//     alone, and the others go on;
//   - a step's caller is answered only once the transaction holding its
//     step has committed (is durable as the engine makes it), so every
//     guarantee of a write step holds as before; the batch costs one
//     commit, one fsync;
//   - if the savepoint machinery or the commit itself fails, nothing of
//     the batch is kept, and each step that had not failed on its own is
//     run again, alone, in a transaction of its own: a step fails only
//     for its own reasons or for a failure of its own transaction.

// errClosed: a write step submitted after Close.
var errClosed = errors.New("store closed")

// groupStep is one write step waiting for its turn.
type groupStep struct {
	ctx  context.Context
	op   string
	f    func(c *conn) error
	done chan error // buffered: the loop never waits for the caller
}

// grouper runs queued write steps in shared transactions.
type grouper struct {
	max   int // steps per transaction at most
	queue chan *groupStep
	quit  chan struct{}
	wg    sync.WaitGroup

	mu     sync.RWMutex // held for reading while submitting, for writing by close
	closed bool
}

// startGroup turns group commit on, with at most max steps per
// transaction.
func (s *Store) startGroup(max int) {
	g := &grouper{max: max, queue: make(chan *groupStep, max), quit: make(chan struct{})}
	s.group = g
	g.wg.Add(1)
	go s.groupLoop(g)
}

// submit queues a write step and waits for its outcome. Once queued, a
// step is waited for even if ctx ends meanwhile: the caller must learn
// whether it committed. (A step whose ctx has ended when its turn comes
// is not run.)
func (g *grouper) submit(st *groupStep) (queued bool, err error) {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return false, errClosed
	}
	g.queue <- st
	g.mu.RUnlock()
	return true, <-st.done
}

// close runs what is queued and stops the loop.
func (g *grouper) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	close(g.quit)
	g.wg.Wait()
}

func (s *Store) groupLoop(g *grouper) {
	defer g.wg.Done()
	batch := make([]*groupStep, 0, g.max)
	for {
		var quit bool
		select {
		case st := <-g.queue:
			batch = append(batch[:0], st)
		case <-g.quit:
			quit = true
			batch = batch[:0]
		}
	more: // what queued up meanwhile joins the transaction
		for len(batch) < g.max {
			select {
			case st := <-g.queue:
				batch = append(batch, st)
			default:
				break more
			}
		}
		if len(batch) > 0 {
			s.runGroup(batch)
		}
		if quit && len(g.queue) == 0 {
			return
		}
	}
}

// runGroup runs a batch of steps in one write transaction, each within
// a savepoint, and answers each step's caller after the commit.
func (s *Store) runGroup(batch []*groupStep) {
	if len(batch) == 1 {
		st := batch[0]
		st.done <- s.writeNow(st.ctx, st.op, st.f)
		return
	}
	results := make([]error, len(batch))
	kept := make([]bool, len(batch)) // its changes are in the transaction
	ok := s.runShared(batch, results, kept)
	if !ok {
		// Nothing of the batch is kept: each step that had not failed on
		// its own runs again, alone.
		for i, st := range batch {
			if kept[i] || results[i] == nil { // it succeeded, or did not run
				results[i] = s.writeNow(st.ctx, st.op, st.f)
			}
		}
	} else {
		n := 0
		for i, st := range batch {
			if kept[i] {
				n++
				s.afterCommit(st.ctx, st.op)
			}
		}
		s.writes.Add(int64(n))
		s.commits.Add(1)
	}
	for i, st := range batch {
		st.done <- results[i]
	}
}

// runShared runs the batch in one transaction. It reports false when
// the transaction failed as a whole (nothing of it is kept); results and
// kept say, step by step, what each did.
func (s *Store) runShared(batch []*groupStep, results []error, kept []bool) bool {
	bg := context.Background() // the transaction outlives any one step's context
	s.trips.Add(1)
	tx, err := s.w.BeginTx(bg, s.d.txOptions)
	if err != nil {
		return false
	}
	for i, st := range batch {
		if err := st.ctx.Err(); err != nil {
			results[i] = s.fail(st.op, err)
			continue
		}
		s.trips.Add(1)
		if _, err := tx.ExecContext(bg, "SAVEPOINT keyline_step"); err != nil {
			tx.Rollback()
			return false
		}
		err := st.f(&conn{s: s, ctx: st.ctx, db: tx, tx: tx, pool: s.wStmts})
		var r *refusal
		undo := errors.As(err, &r) || err != nil && !outcome(err)
		switch {
		case r != nil:
			results[i] = r.err
		case undo:
			results[i] = s.fail(st.op, err)
		default:
			results[i], kept[i] = err, true
		}
		s.trips.Add(1)
		if undo {
			_, err = tx.ExecContext(bg, "ROLLBACK TO keyline_step")
			if err == nil {
				s.trips.Add(1)
				_, err = tx.ExecContext(bg, "RELEASE keyline_step")
			}
		} else {
			_, err = tx.ExecContext(bg, "RELEASE keyline_step")
		}
		if err != nil {
			tx.Rollback()
			return false
		}
	}
	s.trips.Add(1)
	return tx.Commit() == nil
}
