package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Every page the browser tests visit must be valid HTML, as the Nu Html
// Checker (vnu, the W3C's validator) reads it. The browser portal keeps
// each HTML page it serves, as served (collectPages); once every test
// has run, TestMain writes them to a temporary directory and runs vnu
// on them all at once (one JVM start), and the run fails listing each
// page's errors. The checker is vnu.jar (npm's vnu-jar, which scripts/test
// installs under the user's cache directory) run with java:
// $KEYLINE_VNU_JAR, else <cache>/keyline/vnu/node_modules/vnu-jar/build/dist/vnu.jar.
// Without it the check is skipped, saying so, unless KEYLINE_REQUIRE_VNU=1
// (scripts/test sets it): then the run fails.

// servedPage is an HTML page the browser portal served.
type servedPage struct {
	test   string // the test that visited it first
	path   string // the request's path
	status int
	body   []byte
}

// served holds the distinct pages served during the run.
var served struct {
	mu    sync.Mutex
	seen  map[[32]byte]bool
	pages []servedPage
}

// randomTextRE matches the tokens of rand.Text (CSRF and page tokens):
// pages that differ only in them are validated once.
var randomTextRE = regexp.MustCompile(`[A-Z2-7]{26}`)

// collectPages wraps the portal's handler so that each distinct HTML page
// it serves is kept for the validator.
func collectPages(test string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &pageCapture{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(cw, r)
		if !cw.html || cw.buf.Len() == 0 || cw.status/100 == 3 {
			return // not a page: a redirect's body is never shown
		}
		key := sha256.Sum256(randomTextRE.ReplaceAll(cw.buf.Bytes(), nil))
		served.mu.Lock()
		defer served.mu.Unlock()
		if served.seen == nil {
			served.seen = map[[32]byte]bool{}
		}
		if served.seen[key] {
			return
		}
		served.seen[key] = true
		served.pages = append(served.pages, servedPage{test: test, path: r.URL.Path, status: cw.status, body: bytes.Clone(cw.buf.Bytes())})
	})
}

// pageCapture copies an HTML response's body as it is written.
type pageCapture struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	html        bool
	buf         bytes.Buffer
}

func (c *pageCapture) WriteHeader(code int) {
	if !c.wroteHeader {
		c.wroteHeader, c.status = true, code
		c.html = strings.HasPrefix(c.Header().Get("Content-Type"), "text/html")
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *pageCapture) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if c.html {
		c.buf.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *pageCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func TestMain(m *testing.M) {
	code := m.Run()
	if err := validateServedPages(); err != nil {
		fmt.Fprintf(os.Stderr, "--- FAIL: HTML validation (vnu)\n%v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// vnuCommand is the command that runs the Nu Html Checker, or an error
// saying why there is none.
func vnuCommand() ([]string, error) {
	jar := os.Getenv("KEYLINE_VNU_JAR")
	if jar == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory to find vnu.jar in (%v): set KEYLINE_VNU_JAR", err)
		}
		jar = filepath.Join(cache, "keyline", "vnu", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
	}
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("vnu.jar not found (%v): run scripts/test, or npm install --prefix DIR vnu-jar "+
			"with DIR outside the repository and set KEYLINE_VNU_JAR=DIR/node_modules/vnu-jar/build/dist/vnu.jar", err)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("java not found (%v): install default-jdk-headless (Debian)", err)
	}
	return []string{java, "-jar", jar}, nil
}

// vnuReport is vnu's JSON output (--format json).
type vnuReport struct {
	Messages []struct {
		Type     string `json:"type"`
		URL      string `json:"url"`
		LastLine int    `json:"lastLine"`
		Message  string `json:"message"`
		Extract  string `json:"extract"`
	} `json:"messages"`
}

// validateServedPages runs vnu once over every page kept, and returns
// the errors per page.
func validateServedPages() error {
	served.mu.Lock()
	pages := served.pages
	served.mu.Unlock()
	if len(pages) == 0 {
		return nil
	}
	cmd, err := vnuCommand()
	if err != nil {
		if os.Getenv("KEYLINE_REQUIRE_VNU") == "1" {
			return fmt.Errorf("KEYLINE_REQUIRE_VNU=1, but the Nu Html Checker cannot run: %v", err)
		}
		fmt.Fprintf(os.Stderr, "skipping the HTML validation of %d pages the browser tests visited: %v\n", len(pages), err)
		return nil
	}
	dir, err := os.MkdirTemp("", "keyline-portal-pages-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	byFile := map[string]servedPage{}
	args := slices.Clone(cmd)
	args = append(args, "--errors-only", "--format", "json")
	for i, pg := range pages {
		name := filepath.Join(dir, fmt.Sprintf("%03d.html", i))
		if err := os.WriteFile(name, pg.body, 0o600); err != nil {
			return err
		}
		byFile[name] = pg
		args = append(args, name)
	}
	var stdout, stderr bytes.Buffer
	c := exec.Command(args[0], args[1:]...)
	c.Stdout, c.Stderr = &stdout, &stderr
	runErr := c.Run()
	out := stderr.Bytes() // vnu writes its report to standard error
	if len(bytes.TrimSpace(out)) == 0 {
		out = stdout.Bytes()
	}
	var rep vnuReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return fmt.Errorf("vnu (%v) gave no JSON report: %v\n%s%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	perPage := map[string][]string{}
	for _, msg := range rep.Messages {
		if msg.Type != "error" && msg.Type != "non-document-error" {
			continue
		}
		file := strings.TrimPrefix(msg.URL, "file:")
		pg, ok := byFile[file]
		where := file
		if ok {
			where = fmt.Sprintf("%s (status %d, first visited by %s)", pg.path, pg.status, pg.test)
		}
		perPage[where] = append(perPage[where], fmt.Sprintf("  line %d: %s\n    %s", msg.LastLine, msg.Message, strings.TrimSpace(msg.Extract)))
	}
	if len(perPage) == 0 {
		if runErr != nil {
			return fmt.Errorf("vnu failed without naming an error: %v\n%s", runErr, out)
		}
		fmt.Fprintf(os.Stderr, "HTML validation (vnu): the %d distinct pages the browser tests visited are valid\n", len(pages))
		return nil
	}
	var keys []string
	for k := range perPage {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d of the %d distinct pages the browser tests visited are not valid HTML:\n", len(keys), len(pages))
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:\n%s\n", k, strings.Join(perPage[k], "\n"))
	}
	return errors.New(b.String())
}
