package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoadAgainstPortal builds the portal, starts it on SQLite in a
// temporary directory, and runs a load of 40 iterations by 4 users
// against it: every one must finish, the JSON report must say so, and
// the portal's own metrics must have counted 40 challenge successes and
// no rate limiting. A second run with the same users is refused: their
// phones were not kept.
func TestLoadAgainstPortal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the portal")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command, to build the portal: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "portal")
	build := exec.Command(goBin, "build", "-o", bin, "..") // the test runs in examples/portal/loadtest
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the portal: %v\n%s", err, out)
	}

	const secret = "test-secret-for-the-load"
	users := filepath.Join(dir, "load.users")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"-make-users", "7", "-users-file", users, "-secret", secret}, io.Discard, io.Discard); err != nil {
		t.Fatalf("-make-users: %v", err)
	}
	keys := filepath.Join(dir, "keys")
	k := make([]byte, 32)
	rand.Read(k)
	if err := os.WriteFile(keys, []byte("k1 "+base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	pt := startPortal(t, bin, "-addr", "127.0.0.1:0", "-data", filepath.Join(dir, "data"), "-keys", keys,
		"-demo-users=false", "-users", users, "-trusted-proxy", "127.0.0.1/32", "-challenges-per-minute", "100")

	var out, progress bytes.Buffer
	args := []string{"-portal", pt.url, "-users-file", users, "-secret", secret, "-users", "4",
		"-concurrency", "4", "-requests", "40", "-duration", "20s", "-json"}
	if err := run(ctx, args, &out, &progress); err != nil {
		t.Fatalf("the load run: %v\n%s\nportal log:\n%s", err, progress.String(), pt.log())
	}
	var rep report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("the report does not parse: %v\n%s", err, out.String())
	}
	if rep.Iterations != 40 || rep.Finishes != 40 || rep.Failures != 0 || len(rep.FailureKinds) != 0 || rep.StoppedBy != "requests" {
		t.Fatalf("report: %d iterations, %d finishes, %d failures %v, stopped by %q; want 40, 40, none, requests\nportal log:\n%s",
			rep.Iterations, rep.Finishes, rep.Failures, rep.FailureKinds, rep.StoppedBy, pt.log())
	}
	if len(rep.Portals) != 1 || rep.Portals[0].URL != pt.url || rep.Portals[0].Users != 4 || rep.Portals[0].Finishes != 40 {
		t.Errorf("per portal: %+v; want %s with 4 users and 40 finishes", rep.Portals, pt.url)
	}
	if rep.Users != 4 || rep.Concurrency != 4 || rep.RequestsBound != 40 {
		t.Errorf("report: users %d, concurrency %d, bound %d; want 4, 4, 40", rep.Users, rep.Concurrency, rep.RequestsBound)
	}
	for name, l := range map[string]latency{"finish": rep.Finish, "iteration": rep.Iteration} {
		if l.N != 40 || l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s latency %+v: want 40 ordered positive figures", name, l)
		}
	}
	if len(rep.Steps) != numSteps || rep.Steps[stepFinish].Step != "finish POST" || rep.Steps[stepFinish].latency != rep.Finish {
		t.Errorf("steps %+v: want %d, the finish's the same as the finish's", rep.Steps, numSteps)
	}
	for _, s := range rep.Steps {
		if s.N != 40 || s.P50 <= 0 || s.P50 > rep.Iteration.P50 {
			t.Errorf("step %+v: want 40 positive figures within the iteration's", s)
		}
	}
	if rep.Iteration.P50 < rep.Finish.P50 || rep.ElapsedSeconds <= 0 || rep.FinishesPerSecond <= 0 {
		t.Errorf("report %+v: an iteration is shorter than its finish, or no rate", rep)
	}

	// What the portal counted: keyline's successes, and no request
	// refused by the per-address limits (each iteration had its own
	// X-Forwarded-For address).
	metrics := pt.get(t, "/metrics")
	if got := metric(metrics, `keyline_logins_total{factor="challenge",outcome="success"}`); got != "40" {
		t.Errorf("keyline_logins_total{factor=\"challenge\",outcome=\"success\"} = %q; want 40", got)
	}
	if got := metric(metrics, "portal_csrf_refused_total"); got != "0" {
		t.Errorf("portal_csrf_refused_total = %q; want 0", got)
	}
	if strings.Contains(metrics, "portal_rate_limited_total{") {
		t.Errorf("the portal rate limited the load:\n%s", grepLines(metrics, "portal_rate_limited_total"))
	}
	if n := pt.events("portal_step_up"); n != 40 {
		t.Errorf("%d portal_step_up events in the portal's log; want 40", n)
	}

	// The same users again: they have phones this run no longer holds.
	err = run(ctx, args, io.Discard, io.Discard)
	if !errors.Is(err, errHasFactor) {
		t.Errorf("a second run with the same users: %v; want errHasFactor", err)
	}
	// Users 5 and 6 are fresh: a text report this time.
	names, err := readUsersFile(users, secret)
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh.users")
	raw, _ := os.ReadFile(users)
	var keep []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, names[4]+":") || strings.HasPrefix(line, names[5]+":") {
			keep = append(keep, line)
		}
	}
	if err := os.WriteFile(fresh, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	args = []string{"-portal", pt.url + "/", "-users-file", fresh, "-secret", secret,
		"-concurrency", "2", "-requests", "6", "-duration", "20s"}
	if err := run(ctx, args, &out, io.Discard); err != nil {
		t.Fatalf("the text run: %v\nportal log:\n%s", err, pt.log())
	}
	text := out.String()
	for _, want := range []string{"iterations   6: 6 finishes, 0 failures", "stopped by requests", "failures     none",
		pt.url + ": 2 users, 6 finishes, 0 failures"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text report lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+finish\s+6\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+$`).MatchString(text) {
		t.Errorf("the text report has no finish latency row of 6:\n%s", text)
	}

	// User 7: a session lost (the browser's cookie gone, as after a
	// request whose answer never came) is found out, and the user signs
	// in again with the password and the phone before its next iteration.
	l := newLoad(options{portals: []string{pt.url}, concurrency: 1, timeout: 10 * time.Second})
	defer l.close()
	if err := l.setup(ctx, names[6:7], secret); err != nil {
		t.Fatalf("setting up %s: %v", names[6], err)
	}
	u := l.users[0]
	if out := u.iterate(ctx, l.nextAddr()); !out.ok {
		t.Fatalf("an iteration of %s: %s", u.name, out.kind)
	}
	u.c.Jar, _ = cookiejar.New(nil)
	if out := u.iterate(ctx, l.nextAddr()); out.ok || out.kind != "step-up: 403 This form has expired or did not come from this site. Go back, reload the page and try again." {
		t.Fatalf("an iteration without the session cookie: %+v; want the portal's CSRF refusal", out)
	}
	u.lost = true
	signedIn, err := u.recover(ctx, l.nextAddr())
	if err != nil || !signedIn || u.lost {
		t.Fatalf("recover: signed in %v, lost %v, %v; want a new sign-in", signedIn, u.lost, err)
	}
	if out := u.iterate(ctx, l.nextAddr()); !out.ok {
		t.Fatalf("an iteration after signing in again: %s", out.kind)
	}
	if signedIn, err := u.recover(ctx, l.nextAddr()); err != nil || signedIn {
		t.Errorf("recover with a live session: signed in %v, %v; want nothing to do", signedIn, err)
	}
}

// portalProcess is a portal started as a child process.
type portalProcess struct {
	url string

	mu     sync.Mutex
	lines  []string // the last lines of its log
	counts map[string]int
}

// startPortal starts the portal binary with args and waits until it
// listens; it is stopped (SIGINT, then killed) when the test ends.
func startPortal(t *testing.T, bin string, args ...string) *portalProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pt := &portalProcess{counts: map[string]int{}}
	listening := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var ev struct {
				Event string `json:"event"`
				URL   string `json:"url"`
			}
			_ = json.Unmarshal([]byte(line), &ev)
			pt.mu.Lock()
			pt.counts[ev.Event]++
			pt.lines = append(pt.lines, line)
			if len(pt.lines) > 200 {
				pt.lines = pt.lines[len(pt.lines)-200:]
			}
			pt.mu.Unlock()
			if ev.Event == "portal_listening" {
				listening <- ev.URL
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		<-drained
	})
	select {
	case pt.url = <-listening:
	case <-drained:
		t.Fatalf("the portal exited before listening:\n%s", pt.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("the portal did not listen within 30 s:\n%s", pt.log())
	}
	return pt
}

func (pt *portalProcess) log() string {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return strings.Join(pt.lines, "\n")
}

func (pt *portalProcess) events(name string) int {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.counts[name]
}

func (pt *portalProcess) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(pt.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
	}
	return string(b)
}

// metric is the value of a Prometheus sample line, or "".
func metric(exposition, name string) string {
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func grepLines(s, sub string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestUsersFile: the users file holds light Argon2id hashes of the
// passwords the secret derives; it is read back only with that secret,
// and never overwritten.
func TestUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := writeUsersFile(path, 3, "the right secret"); err != nil {
		t.Fatal(err)
	}
	names, err := readUsersFile(path, "the right secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "load-0001,load-0002,load-0003" {
		t.Errorf("users %q", names)
	}
	raw, _ := os.ReadFile(path)
	phc := regexp.MustCompile(`(?m)^load-000[123]:\$argon2id\$v=19\$m=8,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}:Load user [123]$`)
	if n := len(phc.FindAllString(string(raw), -1)); n != 3 {
		t.Errorf("%d lines of the portal's users-file form with light parameters; want 3:\n%s", n, raw)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if _, err := readUsersFile(path, "another secret"); err == nil || !strings.Contains(err.Error(), "load-0001") {
		t.Errorf("read with another secret: %v; want a refusal naming the user", err)
	}
	if err := writeUsersFile(path, 2, "the right secret"); err == nil {
		t.Error("an existing users file was overwritten")
	}
	if a, b, c := password("s", "load-0001"), password("s", "load-0002"), password("t", "load-0001"); a == b || a == c || len(a) != 24 {
		t.Errorf("passwords %q, %q, %q: want 24 characters, differing by user and by secret", a, b, c)
	}
	if ok, err := phcMatches(strings.Split(strings.Split(string(raw), "\n")[2], ":")[1], password("the right secret", "load-0001")); !ok || err != nil {
		t.Errorf("load-0001's hash does not match its derived password: %v, %v", ok, err)
	}
	heavy := filepath.Join(t.TempDir(), "heavy")
	_ = os.WriteFile(heavy, []byte("alice:$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA\n"), 0o600)
	if _, err := readUsersFile(heavy, "the right secret"); err == nil || !strings.Contains(err.Error(), "heavier") {
		t.Errorf("a file with real-strength hashes: %v; want a refusal", err)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v of 1..100 ms = %v; want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(ds[:3], 50); got != 2*time.Millisecond {
		t.Errorf("p50 of 1, 2, 3 ms = %v", got)
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
	l := summarise([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	if l != (latency{N: 3, P50: 2, P90: 3, P99: 3, Max: 3, Mean: 2}) {
		t.Errorf("summarise: %+v", l)
	}
}

// TestReportText: the text report gives the figures and the failures by
// kind, most frequent first, with the hint for the challenge budget.
func TestReportText(t *testing.T) {
	o := options{portals: []string{"http://a", "http://b"}, concurrency: 3, requests: 10, duration: time.Minute}
	r := results{
		steps: [numSteps][]time.Duration{{time.Millisecond, time.Millisecond}, {time.Millisecond, 3 * time.Millisecond},
			{2 * time.Millisecond, 4 * time.Millisecond}, {time.Millisecond, time.Millisecond}},
		iterations: []time.Duration{5 * time.Millisecond, 9 * time.Millisecond},
		failures:   map[string]int{"finish: 200 Wrong response.": 1, "challenge page: 429 Too many challenges were asked for.": 7},
		perPortal:  []portalCount{{"http://a", 2, 2, 3}, {"http://b", 2, 0, 5}},
		begun:      10, elapsed: 2 * time.Second, stoppedBy: "requests",
	}
	rep := newReport(o, 4, time.Second, r)
	if rep.Finishes != 2 || rep.Failures != 8 || rep.FinishesPerSecond != 1 {
		t.Fatalf("report %+v", rep)
	}
	var b bytes.Buffer
	if err := rep.writeText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"iterations   10: 2 finishes, 8 failures",
		"finishes/s   1.0",
		"http://b: 2 users, 0 finishes, 5 failures",
		"challenge page: 429 Too many challenges were asked for.\n",
		"-challenges-per-minute 100",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Index(text, "Too many challenges") > strings.Index(text, "Wrong response") {
		t.Errorf("failure kinds not most frequent first:\n%s", text)
	}
	for _, row := range []string{
		`finish +2 +2\.00 +4\.00 +4\.00 +4\.00 +3\.00`,
		`iteration +2 +5\.00 +9\.00 +9\.00 +9\.00 +7\.00`,
		`challenge page +2 +1\.00 +3\.00 +3\.00 +3\.00 +2\.00`,
		`finish POST +2 +2\.00 +4\.00`,
	} {
		if !regexp.MustCompile(`(?m)^  ` + row).MatchString(text) {
			t.Errorf("no row %s in\n%s", row, text)
		}
	}
}

func TestPages(t *testing.T) {
	body := `<main><h1 id="title">Confirm it's you</h1>
<p id="error" class="error" role="alert">Too many attempts from your network. Wait 12 seconds &amp; try again.</p>
<p id="challenge" class="big">48213901</p>
<p id="unlocked">You can make changes for <span id="proof-expires" data-remaining="299">299 seconds</span>.</p>
<form><input type="hidden" name="csrf" value="TOKEN&#43;1"></form>`
	if got, ok := elementText(body, "challenge"); !ok || got != "48213901" {
		t.Errorf("#challenge = %q, %v", got, ok)
	}
	if got, _ := elementText(body, "unlocked"); got != "You can make changes for 299 seconds ." {
		t.Errorf("#unlocked = %q", got)
	}
	if hasElement(body, "session-id") || !hasElement(body, "proof-expires") {
		t.Error("hasElement")
	}
	if got := pageKind(answer{status: 429, body: body}); got != "429 Too many attempts from your network. Wait N seconds & try again." {
		t.Errorf("pageKind = %q", got)
	}
	if got := pageKind(answer{status: 303, location: "/login"}); got != "303 redirect to /login" {
		t.Errorf("pageKind of a redirect = %q", got)
	}
	if m := csrfRE.FindStringSubmatch(body); m == nil || m[1] != "TOKEN&#43;1" {
		t.Errorf("csrf %q", m)
	}
}

// TestAddresses: setup addresses are one per user in 10.0.0.0/16; the
// timed phase's come in turn from 10.1.0.0/17, all of them before any
// comes again.
func TestAddresses(t *testing.T) {
	seen := map[string]bool{}
	for i := range maxUsers {
		a := netip.MustParseAddr(setupAddr(i))
		if !netip.MustParsePrefix("10.0.0.0/16").Contains(a) || seen[a.String()] || a.As4()[3] == 0 && a.As4()[2] == 0 {
			t.Fatalf("setup address %d: %v", i, a)
		}
		seen[a.String()] = true
	}
	l := &load{}
	first := l.nextAddr()
	for i := 1; i < iterationAddrs; i++ {
		a := netip.MustParseAddr(l.nextAddr())
		if !netip.MustParsePrefix("10.1.0.0/17").Contains(a) || seen[a.String()] {
			t.Fatalf("iteration address %d: %v", i, a)
		}
		seen[a.String()] = true
	}
	if again := l.nextAddr(); again != first {
		t.Errorf("after %d addresses %s; want the first, %s, again", iterationAddrs, again, first)
	}
}

func TestFlags(t *testing.T) {
	base := []string{"-users-file", "f", "-secret", "long enough"}
	o, err := parseFlags(append(base, "-portal", "http://127.0.0.1:1/, http://127.0.0.1:2"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.portals, " ") != "http://127.0.0.1:1 http://127.0.0.1:2" || o.concurrency != 8 || o.requests != 1000 || o.duration != time.Minute {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{
		{"-secret", "long enough"},
		{"-users-file", "f", "-secret", "short"},
		append(base, "-portal", "127.0.0.1:8080"),
		append(base, "-portal", "ftp://x"),
		append(base, "-portal", " , "),
		append(base, "-concurrency", "0"),
		append(base, "-requests", "0"),
		append(base, "-duration", "0s"),
		append(base, "-make-users", "-1"),
		append(base, "extra"),
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
