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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/keyline/keyline/enroll/vault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command failed: one line on standard error says why
	exitUsage = 2 // the command line is wrong
)

const (
	defaultPortal   = "http://127.0.0.1:8080"
	deviceMount     = "/device" // where the portal mounts the device API
	defaultInterval = 2 * time.Second
	minInterval     = 10 * time.Millisecond
	httpTimeout     = 20 * time.Second
)

// vaultOptions seal and open the vault. The zero value is the library's
// default: Argon2id at t=3, 64 MiB, p=4, which is what protects a copied
// vault file. The tests, and only they, lower it so that they run fast.
var vaultOptions vault.Options

// app is one run of the command: where it writes, how it asks, and the
// flags every command shares.
type app struct {
	ctx    context.Context
	out    io.Writer // results
	con    *console  // prompts and answers
	vault  string    // -vault
	portal string    // -portal
	now    func() time.Time
	// outTTY: out is a terminal, where results are sentences for a
	// person; elsewhere (a pipe, a file) respond prints its digits alone.
	outTTY bool
}

// command is one subcommand: its synopsis, its own flags, and what it
// does with the arguments left after them.
type command struct {
	synopsis string
	summary  string
	flags    func(fs *flag.FlagSet) func(a *app, args []string) error
}

// commands lists the subcommands; usage prints them in this order.
var commandOrder = []string{"activate", "add-user", "users", "status", "respond", "watch", "login-qr", "sign", "migrate",
	"remove-user", "change-pin", "export", "import", "qr"}

func commands() map[string]command {
	return map[string]command{
		"activate": {"activate [-name NAME] <offer URI | session ID>",
			"activate an account: makes the vault on first use, adds to it afterwards",
			func(fs *flag.FlagSet) func(*app, []string) error {
				name := fs.String("name", "", "the `name` the portal shows for this device (default: from the vault, or \"CLI on HOST\")")
				return func(a *app, args []string) error { return a.activate(args, *name, false) }
			}},
		"add-user": {"add-user [-name NAME] <offer URI | session ID>",
			"activate another account in a vault that exists already",
			func(fs *flag.FlagSet) func(*app, []string) error {
				name := fs.String("name", "", "the `name` the portal shows for this device")
				return func(a *app, args []string) error { return a.activate(args, *name, true) }
			}},
		"users": {"users", "list the accounts in the vault (never a secret)",
			func(fs *flag.FlagSet) func(*app, []string) error {
				return func(a *app, args []string) error { return noArgs(args, a.users) }
			}},
		"status": {"status [-user NAME] [-issuer NAME]",
			"ask the portal whether each account's device is still active; delete the removed ones from the vault",
			func(fs *flag.FlagSet) func(*app, []string) error {
				sel := selectionFlags(fs)
				return func(a *app, args []string) error { return noArgs(args, func() error { return a.status(*sel) }) }
			}},
		"respond": {"respond [-user NAME] [-issuer NAME] <challenge>",
			"answer the challenge the login page shows",
			func(fs *flag.FlagSet) func(*app, []string) error {
				sel := selectionFlags(fs)
				return func(a *app, args []string) error { return a.respond(args, *sel) }
			}},
		"watch": {"watch [-once] [-interval D] [-user NAME] [-issuer NAME]",
			"wait for push requests and approve (with the number the login page shows) or deny them",
			func(fs *flag.FlagSet) func(*app, []string) error {
				sel := selectionFlags(fs)
				once := fs.Bool("once", false, "handle one push request, then exit")
				every := fs.Duration("interval", defaultInterval, "how often to ask the portal for push requests")
				return func(a *app, args []string) error {
					return noArgs(args, func() error { return a.watch(*sel, *once, *every) })
				}
			}},
		"login-qr": {"login-qr [-number NN | -deny] <QR code text | ->",
			"log in with a QR code: approve (with the number the page shows) or deny the login the page's QR code names",
			func(fs *flag.FlagSet) func(*app, []string) error {
				number := fs.String("number", "", "the 2-digit `number` the login page shows: approve with it, without asking")
				deny := fs.Bool("deny", false, "deny the login, without asking")
				return func(a *app, args []string) error { return a.loginQR(args, *number, *deny) }
			}},
		"sign": {"sign [-user NAME] [-issuer NAME] [transaction QR payload]",
			"sign a transaction: the one waiting as a push, or one from a QR code",
			func(fs *flag.FlagSet) func(*app, []string) error {
				sel := selectionFlags(fs)
				return func(a *app, args []string) error { return a.sign(args, *sel) }
			}},
		"migrate": {"migrate [-user NAME] [-issuer NAME] [-interval D]",
			"move an account to a new phone; this device is revoked when the new one pairs",
			func(fs *flag.FlagSet) func(*app, []string) error {
				sel := selectionFlags(fs)
				every := fs.Duration("interval", defaultInterval, "how often to ask the portal whether the new phone has activated")
				return func(a *app, args []string) error {
					return noArgs(args, func() error { return a.migrate(*sel, *every) })
				}
			}},
		"remove-user": {"remove-user [-issuer NAME] <account>",
			"delete an account from the vault (revoke its device at the portal too)",
			func(fs *flag.FlagSet) func(*app, []string) error {
				issuer := fs.String("issuer", "", "the `issuer` of the account, when several have that name")
				return func(a *app, args []string) error { return a.removeUser(args, *issuer) }
			}},
		"change-pin": {"change-pin", "change the vault's PIN",
			func(fs *flag.FlagSet) func(*app, []string) error {
				return func(a *app, args []string) error { return noArgs(args, a.changePIN) }
			}},
		"export": {"export <file>", "write a backup of the vault, sealed under a passphrase shown once",
			func(fs *flag.FlagSet) func(*app, []string) error {
				return func(a *app, args []string) error { return a.export(args) }
			}},
		"import": {"import <file>", "restore a backup: into the vault, or as a new vault",
			func(fs *flag.FlagSet) func(*app, []string) error {
				return func(a *app, args []string) error { return a.importBackup(args) }
			}},
		"qr": {"qr <offer URI>", "draw an activation offer URI as a QR code in the terminal",
			func(fs *flag.FlagSet) func(*app, []string) error {
				return func(a *app, args []string) error { return a.qr(args) }
			}},
	}
}

// selection is how a command picks one account of the vault.
type selection struct {
	user   string // account name or user ID; "" for any
	issuer string // "" for any
}

func selectionFlags(fs *flag.FlagSet) *selection {
	s := &selection{}
	fs.StringVar(&s.user, "user", "", "the account `name` (or user ID) to use, when the vault holds several")
	fs.StringVar(&s.issuer, "issuer", "", "the `issuer` of the account, when several issuers have one of that name")
	return s
}

// usageError is a command line the command cannot run: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func noArgs(args []string, f func() error) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(args, " "))
	}
	return f()
}

// run is the whole program, for main and for the tests: it parses args
// (the command line without the program's name), runs the command, and
// returns the exit status. Prompts and errors go to stderr, results to
// stdout; stdin answers the prompts.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, out: stdout, outTTY: isTerminal(stdout), con: newConsole(stdin, stderr), now: time.Now}
	defaultVault := ""
	if dir, err := os.UserConfigDir(); err == nil {
		defaultVault = filepath.Join(dir, "keyline", "vault")
	}
	// common registers the flags every command shares; the command's own
	// flag set registers them again, defaulting to what the global flags
	// set, so that they may come before or after the command's name.
	common := func(fs *flag.FlagSet, vault, portal string) {
		fs.StringVar(&a.vault, "vault", vault, "the vault `file`")
		fs.StringVar(&a.portal, "portal", portal, "the portal's `URL`; its device API is at URL/device")
	}
	cmds := commands()

	global := flag.NewFlagSet("device", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	common(global, defaultVault, defaultPortal)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, global, cmds)
			return exitOK
		}
		fmt.Fprintln(stderr, "device:", err)
		usage(stderr, global, cmds)
		return exitUsage
	}
	if global.NArg() == 0 {
		fmt.Fprintln(stderr, "device: no command given")
		usage(stderr, global, cmds)
		return exitUsage
	}
	name, rest := global.Arg(0), global.Args()[1:]
	if name == "help" {
		usage(stdout, global, cmds)
		return exitOK
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "device: unknown command %q\n", name)
		usage(stderr, global, cmds)
		return exitUsage
	}
	fs := flag.NewFlagSet("device "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	common(fs, a.vault, a.portal)
	do := cmd.flags(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, fs, cmd)
			return exitOK
		}
		fmt.Fprintf(stderr, "device %s: %v\n", name, err)
		commandUsage(stderr, fs, cmd)
		return exitUsage
	}
	if a.vault == "" && name != "qr" {
		fmt.Fprintln(stderr, "device: no configuration directory to keep the vault in: give -vault FILE")
		return exitUsage
	}

	err := do(a, fs.Args())
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "device %s: %s\n", name, ue.msg)
		commandUsage(stderr, fs, cmd)
		return exitUsage
	}
	fmt.Fprintf(stderr, "device %s: %s\n", name, a.describe(err))
	return exitError
}

func usage(w io.Writer, global *flag.FlagSet, cmds map[string]command) {
	fmt.Fprintln(w, "usage: device [-vault FILE] [-portal URL] <command> [flags] [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range commandOrder {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nflags of every command (before or after the command's name):")
	global.SetOutput(w)
	global.PrintDefaults()
	global.SetOutput(io.Discard)
	fmt.Fprintln(w, "\n\"device <command> -h\" shows a command's own flags.")
}

func commandUsage(w io.Writer, fs *flag.FlagSet, cmd command) {
	fmt.Fprintf(w, "usage: device %s\n  %s\n\nflags:\n", cmd.synopsis, cmd.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// deviceURL checks -portal and returns the URL of its device API.
func (a *app) deviceURL() (string, error) {
	u, err := url.Parse(a.portal)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", &usageError{"-portal must be an absolute http or https URL, without user, query or fragment"}
	}
	return strings.TrimRight(a.portal, "/") + deviceMount, nil
}

// sleep waits for d, or until the run is interrupted.
func (a *app) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-a.ctx.Done():
		return a.ctx.Err()
	case <-t.C:
		return nil
	}
}
