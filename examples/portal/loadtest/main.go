// Loadtest measures the portal's second-factor path under load: how many
// challenge/response confirmations per second one or more running
// portals (examples/portal) complete, and how long they take.
//
// It starts no portal itself. The operator makes synthetic users, starts
// the portal(s) with them (KEYS is a keys file, as the portal's
// documentation says; portals sharing a store share it), and points the
// load at the portal(s):
//
//	go -C examples/portal run ./loadtest -make-users 64 -users-file /tmp/load.users -secret S
//	go -C examples/portal run . -keys KEYS -data DIR -demo-users=false \
//	        -users /tmp/load.users -trusted-proxy 127.0.0.1/32 -challenges-per-minute 100
//	go -C examples/portal run ./loadtest -portal http://127.0.0.1:8080 \
//	        -users-file /tmp/load.users -secret S -concurrency 16 -requests 2000 -duration 60s
//
// (from the repository's root; the portal is a module of its own, and go
// -C runs the go command in its directory, where relative file names
// such as KEYS and DIR are then read).
//
// # What one iteration is
//
// A signed-in user confirms it's them on the security page, as before a
// security change (a step-up), with a phone that has no push token, so
// that the portal goes straight to challenge/response:
//
//  1. POST /security/stepup (with the page's CSRF token);
//  2. GET /2fa: the portal issues a challenge (authn BeginChallenge) and
//     shows it in #challenge;
//  3. the phone answers it (enroll.Credential.Respond, in this process);
//  4. POST /2fa/challenge with the response: the portal checks it
//     (authn FinishChallenge) and redirects to /security — the "finish";
//  5. GET /security, which must show #unlocked (the step-up proof is
//     fresh); its CSRF token is the one the next iteration posts.
//
// Two latencies are measured for each iteration: the finish (step 4 alone,
// request sent to answer read, without following its redirect) and the
// whole iteration (steps 1 to 5, the phone's computation included); each
// of the four requests is timed too, to show where an iteration's time
// goes. An iteration succeeds when the finish redirects to /security and
// that page shows #unlocked; any other outcome is a failure, counted by
// its kind: the text of the page's #error (digits replaced by N, so that
// "Wait 3 seconds" and "Wait 4 seconds" are one kind), or what went wrong
// instead (a status, a transport error).
//
// # Users, and what is not measured
//
// -make-users N writes a users file of N users, load-0001 and on, each
// with an Argon2id hash at the lightest parameters the portal accepts
// (m=8 KiB, t=1, p=1), so that the password costs nearly nothing: the
// password step is not what is measured, and it runs only in the setup.
// Each password is derived from -secret (HMAC-SHA256 of the username), so
// the file holds no password and the load run needs only the same
// secret. Such hashes are worthless against guessing: never give these
// users to a portal that real people use.
//
// Before the timer starts, each virtual user signs in with its password
// (a user without a second factor is signed in on trust), activates a
// phone through the pages and the portal's device API
// (enroll/deviceclient: the session ID from #session-id, the pairing code
// typed back), and ends on /security. The setup needs users that have no
// phone yet: a portal on a fresh store. The program keeps no phone
// between runs, so a second run needs a new store (or new users).
//
// # The portal's limits
//
// The portal limits second-factor posts per client address (20 a
// minute) and passwords (10 a minute), and keyline limits the challenges
// one user is issued (-challenges-per-minute, default 10, at most 100).
// A load from one address, or from a few users, measures those limits,
// not the portal. So:
//
//   - the portal must run with -trusted-proxy 127.0.0.1/32 (or whatever
//     address this program connects from), and every request carries an
//     X-Forwarded-For address: during the setup one per virtual user
//     (10.0.0.0/16), in the timed phase the next of 32,768 (10.1.0.0/17)
//     for each iteration, as if each confirmation came from another
//     subscriber. None comes round more often than the portal's 20 a
//     minute below 10,000 iterations a second;
//   - the portal should run with -challenges-per-minute 100, and there
//     must be enough users: each can be issued at most 100 challenges in
//     any minute, so a run shorter than a minute needs -requests/100 users
//     at least, and a run of R iterations a second for longer R×60/100
//     (600 a second: 360 users). When the budget is what stops them,
//     failures read "Too many challenges were asked for": add users.
//
// # Several portals
//
// -portal takes several base URLs, comma separated: portal processes
// sharing one store (-postgres, with -redis). Browser sessions live in the
// memory of the portal that made them, so each virtual user stays on one
// portal: user i on portal i mod P. The users are split evenly; the
// iterations follow the users that are idle, so a slower portal gets
// somewhat fewer, and the report gives each portal's share.
//
// # Bounds and report
//
// The timed phase runs -concurrency workers; each takes an idle virtual
// user (a user runs one iteration at a time: its session is a browser)
// and runs one iteration, until -requests iterations were started or
// -duration has passed, whichever comes first; iterations under way then
// finish. The report gives the iterations, finishes (successes) and
// failures by kind, the elapsed time of the timed phase, finishes per
// second (finishes / elapsed), and p50, p90, p99, max and mean of the
// finish, of the iteration and of each request, over the successful
// iterations (nearest-rank percentiles): as text, or as JSON with -json.
// An interrupt (SIGINT) stops the run and reports what was measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	portals     []string
	usersFile   string
	secret      string
	makeUsers   int
	users       int
	concurrency int
	requests    int
	duration    time.Duration
	timeout     time.Duration
	json        bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var portals string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `loadtest: a bounded load of second-factor confirmations (step-up by
challenge/response) on running portals; see the package documentation
(go -C examples/portal doc ./loadtest).

  loadtest -make-users N -users-file FILE -secret S
  loadtest -portal URL[,URL...] -users-file FILE -secret S [-concurrency C] [-requests N] [-duration D]

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&portals, "portal", "http://127.0.0.1:8080", "the portals' base `URL`s, comma separated (processes sharing one store)")
	fs.StringVar(&o.usersFile, "users-file", "", "the users `FILE`: written with -make-users, read otherwise")
	fs.StringVar(&o.secret, "secret", "", "the secret `S` the users' passwords are derived from (at least 8 characters)")
	fs.IntVar(&o.makeUsers, "make-users", 0, "write a users file of `N` synthetic users to -users-file, and exit")
	fs.IntVar(&o.users, "users", 0, "drive the first `N` users of the file (default: all)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "iterations under way at once (`C` workers; at most the number of users)")
	fs.IntVar(&o.requests, "requests", 1000, "stop after `N` iterations (one finish each) ...")
	fs.DurationVar(&o.duration, "duration", time.Minute, "... or after `D` (such as 60s), whichever comes first")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "the time limit `D` of each HTTP request")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.usersFile == "" {
		return options{}, errors.New("-users-file is required")
	}
	if len(o.secret) < 8 {
		return options{}, errors.New("-secret is required, at least 8 characters: the users' passwords are derived from it")
	}
	if o.makeUsers < 0 || o.makeUsers > maxUsers {
		return options{}, fmt.Errorf("-make-users %d: want 1 to %d", o.makeUsers, maxUsers)
	}
	if o.makeUsers > 0 {
		return o, nil
	}
	for p := range strings.SplitSeq(portals, ",") {
		p = strings.TrimRight(strings.TrimSpace(p), "/")
		if p == "" {
			continue
		}
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return options{}, fmt.Errorf("-portal %q: want a base URL such as http://127.0.0.1:8080", p)
		}
		o.portals = append(o.portals, p)
	}
	switch {
	case len(o.portals) == 0:
		return options{}, errors.New("-portal: give at least one URL")
	case o.users < 0:
		return options{}, errors.New("-users must not be negative")
	case o.concurrency < 1:
		return options{}, errors.New("-concurrency must be at least 1")
	case o.requests < 1:
		return options{}, errors.New("-requests must be at least 1")
	case o.duration <= 0:
		return options{}, errors.New("-duration must be positive")
	case o.timeout <= 0:
		return options{}, errors.New("-timeout must be positive")
	}
	return o, nil
}

// run is the program: make the users file, or set up the virtual users
// and run the timed phase, then write the report to stdout. Progress goes
// to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.makeUsers > 0 {
		if err := writeUsersFile(o.usersFile, o.makeUsers, o.secret); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "loadtest: wrote %d users to %s; start the portal with -users %s -demo-users=false -trusted-proxy 127.0.0.1/32 -challenges-per-minute 100\n",
			o.makeUsers, o.usersFile, o.usersFile)
		return nil
	}
	names, err := readUsersFile(o.usersFile, o.secret)
	if err != nil {
		return err
	}
	if o.users > 0 {
		if o.users > len(names) {
			return fmt.Errorf("-users %d: %s has %d users", o.users, o.usersFile, len(names))
		}
		names = names[:o.users]
	}
	if o.concurrency > len(names) {
		fmt.Fprintf(stderr, "loadtest: -concurrency %d lowered to %d, the number of users (each runs one iteration at a time)\n", o.concurrency, len(names))
		o.concurrency = len(names)
	}

	l := newLoad(o)
	defer l.close()
	began := time.Now()
	fmt.Fprintf(stderr, "loadtest: setting up %d users on %d portal(s)\n", len(names), len(o.portals))
	if err := l.setup(ctx, names, o.secret); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	setup := time.Since(began)
	fmt.Fprintf(stderr, "loadtest: setup done in %v; timed phase: %d iterations or %v, %d workers\n",
		setup.Round(time.Millisecond), o.requests, o.duration, o.concurrency)
	res := l.timed(ctx)
	rep := newReport(o, len(names), setup, res)
	if o.json {
		return rep.writeJSON(stdout)
	}
	return rep.writeText(stdout)
}
