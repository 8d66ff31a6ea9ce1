package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// errNoInput reports that standard input ended before a prompt got its
// answer.
var errNoInput = errors.New("standard input ended before the answer")

// maxLine bounds one answer read from standard input, in bytes: the longest
// thing anyone types here is a transaction QR payload, which stays well
// under this.
const maxLine = 64 << 10

// console asks the user questions. Prompts go to its prompt writer
// (standard error), so that standard output carries only results. When
// standard input is a terminal, secrets are read without echo; otherwise
// each prompt consumes one line of standard input, which is how tests and
// scripts drive the commands.
type console struct {
	in     *bufio.Reader
	prompt io.Writer
	fd     int  // the terminal's file descriptor, when isTerm
	isTerm bool // standard input is a terminal
}

func newConsole(stdin io.Reader, prompt io.Writer) *console {
	c := &console{in: bufio.NewReader(stdin), prompt: prompt}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		c.fd, c.isTerm = int(f.Fd()), true
	}
	return c
}

// ask shows prompt and returns the line the user typed, without its line
// ending and surrounding spaces.
func (c *console) ask(ctx context.Context, prompt string) (string, error) {
	c.show(prompt)
	line, err := c.readLine(ctx)
	return strings.TrimSpace(line), err
}

// secret shows prompt and reads a secret (a PIN, a passphrase): without
// echo on a terminal, as one line otherwise. Only a line ending is
// removed: spaces are part of what was typed.
func (c *console) secret(ctx context.Context, prompt string) (string, error) {
	if !c.isTerm {
		c.show(prompt)
		return c.readLine(ctx)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fmt.Fprint(c.prompt, prompt)
	// ReadPassword restores the terminal when it returns; if the user
	// interrupts first, restore it here, since the read stays blocked.
	state, err := term.GetState(c.fd)
	if err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(c.fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(c.prompt) // the Enter key was not echoed
		if r.err != nil {
			return "", fmt.Errorf("reading from the terminal: %w", r.err)
		}
		s := string(r.b)
		clear(r.b)
		return s, nil
	case <-ctx.Done():
		_ = term.Restore(c.fd, state)
		fmt.Fprintln(c.prompt)
		return "", ctx.Err()
	}
}

// show writes a prompt. At a terminal the answer's echo ends its line;
// without one nothing would, so the prompt ends the line itself.
func (c *console) show(prompt string) {
	if c.isTerm {
		fmt.Fprint(c.prompt, prompt)
	} else {
		fmt.Fprintln(c.prompt, strings.TrimRight(prompt, " "))
	}
}

// say writes a line of guidance next to the prompts.
func (c *console) say(format string, args ...any) {
	fmt.Fprintf(c.prompt, format+"\n", args...)
}

// readLine reads one line, giving up when ctx ends. A read left blocked
// by an interruption is abandoned: the command ends right after.
func (c *console) readLine(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := c.readLineNow()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *console) readLineNow() (string, error) {
	var b strings.Builder
	for {
		frag, isPrefix, err := c.in.ReadLine()
		if b.Len()+len(frag) > maxLine {
			return "", fmt.Errorf("an answer longer than %d bytes", maxLine)
		}
		b.Write(frag)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if b.Len() > 0 {
					return b.String(), nil
				}
				return "", errNoInput
			}
			return "", fmt.Errorf("reading standard input: %w", err)
		}
		if !isPrefix {
			return b.String(), nil
		}
	}
}

// isTerminal reports whether w is a terminal: a file that is one, or a
// writer that says it is one (a test's stand-in).
func isTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
