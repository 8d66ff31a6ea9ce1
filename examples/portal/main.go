package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(2)
	}
	if cfg.HashPassword {
		if err := hashPasswordCommand(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "portal:", err)
			os.Exit(1)
		}
		return
	}
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, nil); err != nil {
		logger.Error("portal: stopped", "error", err.Error())
		os.Exit(1)
	}
}

// prefixList is a flag.Value collecting CIDR prefixes, comma separated,
// the flag repeatable.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			// A bare address is a prefix of its full length.
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return fmt.Errorf("not a CIDR prefix or address: %q", part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		*l = append(*l, p.Masked())
	}
	return nil
}

// parseFlags reads the command line into a config. It writes usage to
// out on -h.
func parseFlags(args []string, out io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen `address`")
	fs.StringVar(&cfg.DataDir, "data", "portal-data", "data `directory` (SQLite database; changed passwords; demo keys with -insecure-demo)")
	fs.StringVar(&cfg.Postgres, "postgres", "", "PostgreSQL `DSN`: a store shared by several portals, instead of SQLite")
	fs.StringVar(&cfg.Redis, "redis", "", "Redis `host:port` for the hot state (challenges, attempts, pushes); needs -postgres for the durable records")
	fs.StringVar(&cfg.KeysFile, "keys", "", "sealing keys `file` (\"ID BASE64\" lines; mode 0600; outside the data directory)")
	fs.StringVar(&cfg.KeysEnv, "keys-env", "", "read the sealing keys from this environment `variable` instead of -keys (\"ID BASE64\" entries separated by ';')")
	fs.BoolVar(&cfg.InsecureDemo, "insecure-demo", false, "without -keys: generate throwaway keys and keep them in the data directory; accept keys marked insecure-demo")
	fs.StringVar(&cfg.UsersFile, "users", "", "more users: a `file` of username:argon2id-hash[:display name[:account]] lines")
	fs.BoolVar(&cfg.DemoUsers, "demo-users", true, "add the demo users alice and bob")
	fs.StringVar(&cfg.Issuer, "issuer", "Keyline Portal", "the service `name` phones show")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the TLS private key `file` (PEM)")
	fs.Var((*prefixList)(&cfg.TrustedProxies), "trusted-proxy", "trust X-Forwarded-For from these `CIDR`s (comma separated, repeatable)")
	fs.Var((*prefixList)(&cfg.Allow), "allow", "second factors and device API requests only from these `CIDR`s (comma separated, repeatable; default any)")
	fs.IntVar(&cfg.ChallengesPerMinute, "challenges-per-minute", defaultChallengesPerMinute,
		fmt.Sprintf("challenges one user may be issued per minute (`N`, 1..%d)", maxChallengesPerMinute))
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", "", "export OpenTelemetry traces of keyline's calls to this OTLP/HTTP collector `URL` (http://127.0.0.1:4318, say)")
	fs.BoolVar(&cfg.HashPassword, "hash-password", false, "read a password on stdin, print its Argon2id hash for -users, and exit")
	cfg.Push.flags(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return config{}, errors.New("-tls-cert and -tls-key go together")
	}
	if cfg.ChallengesPerMinute < 1 || cfg.ChallengesPerMinute > maxChallengesPerMinute {
		return config{}, fmt.Errorf("-challenges-per-minute %d: want 1 to %d", cfg.ChallengesPerMinute, maxChallengesPerMinute)
	}
	if err := cfg.Push.check(); err != nil {
		return config{}, err
	}
	if cfg.Redis != "" && cfg.Postgres == "" {
		return config{}, errors.New("-redis keeps only the hot state: give -postgres for the durable records the portals share")
	}
	if cfg.OTLPEndpoint != "" {
		var err error
		if cfg.OTLPEndpoint, err = otlpEndpoint(cfg.OTLPEndpoint); err != nil {
			return config{}, err
		}
	}
	cfg.SecureCookies = cfg.TLSCert != ""
	return cfg, nil
}

// hashPasswordCommand reads one line (the password) from in and prints
// its Argon2id PHC string.
func hashPasswordCommand(in io.Reader, out io.Writer) error {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("no password on standard input")
	}
	_, err = fmt.Fprintln(out, hashPassword(pw, defaultArgon))
	return err
}

// run builds the portal and serves it until ctx ends, then shuts down
// gracefully. ready, when not nil, receives the listening address.
//
// It listens first, so that a busy address stops it before it makes
// anything (a data directory, demo keys), with a message naming -addr.
func run(ctx context.Context, cfg config, ready chan<- string) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s is in use by another program: choose another address with -addr (for example -addr 127.0.0.1:8081, or -addr 127.0.0.1:0 for any free port; the log names the one chosen): %w", cfg.Addr, err)
	}
	if err != nil {
		return fmt.Errorf("-addr %s: %w", cfg.Addr, err)
	}
	p, err := newPortal(cfg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer p.Close()
	return serve(ctx, p, cfg, ln, ready)
}

// shutdownGrace is how long requests in flight may take to finish once a
// signal has come.
const shutdownGrace = 10 * time.Second

// serve serves p on ln (TLS when cfg says so) until ctx ends.
func serve(ctx context.Context, p *portal, cfg config, ln net.Listener, ready chan<- string) error {
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	p.log.Info("portal: listening", "event", "portal_listening", "url", scheme+"://"+ln.Addr().String(), "store", p.storeName)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	p.log.Info("portal: shutting down", "event", "portal_shutdown")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
