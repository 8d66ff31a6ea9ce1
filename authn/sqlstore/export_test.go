package sqlstore

import "context"

// StepConn is what a test's group step runs its statements on.
type StepConn struct{ c *conn }

// Exec runs one statement in the step's transaction.
func (c StepConn) Exec(q string, args ...any) error {
	_, err := c.c.exec(q, args...)
	return err
}

// Refuse makes err a refusal: the step's changes roll back.
func Refuse(err error) error { return &refusal{err} }

// RunGroup runs steps as one batch of the group commit, as the loop
// would, and returns each step's outcome.
func RunGroup(s *Store, steps ...func(StepConn) error) []error {
	batch := make([]*groupStep, len(steps))
	for i, f := range steps {
		batch[i] = &groupStep{ctx: context.Background(), op: "test", done: make(chan error, 1),
			f: func(c *conn) error { return f(StepConn{c}) }}
	}
	s.runGroup(batch)
	out := make([]error, len(batch))
	for i, st := range batch {
		out[i] = <-st.done
	}
	return out
}
