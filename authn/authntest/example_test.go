package authntest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
)

// loginHandler is the application's second step of login, under test.
// GET begins a challenge and returns it as JSON; POST checks the
// response. (A real application takes the user from the session its
// first factor opened, not from the form.)
type loginHandler struct{ svc *authn.Service }

func (h loginHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user := r.FormValue("user")
	if r.Method == http.MethodGet {
		ch, err := h.svc.BeginChallenge(r.Context(), user)
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(ch)
		return
	}
	res, err := h.svc.FinishChallenge(r.Context(), user, r.FormValue("challenge"), r.FormValue("response"))
	if err != nil {
		http.Error(w, "wrong code", http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, "welcome %s (%s)", res.User, res.DeviceName)
}

// testLogin is what a test of the handler looks like: enroll a phone,
// fetch a challenge, post the phone's answer, and post it again.
func testLogin(t testing.TB) {
	k := authntest.New(t)
	phone := k.Enroll("alice")
	h := loginHandler{k.Service}

	var ch authn.Challenge
	json.Unmarshal(serve(h, http.MethodGet, url.Values{"user": {"alice"}}).Body.Bytes(), &ch)
	answer := url.Values{"user": {"alice"}, "challenge": {ch.ID}, "response": {phone.Respond(ch.Question)}}
	for range 2 {
		rec := serve(h, http.MethodPost, answer)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
}

// serve sends form to h, in the query of a GET or the body of a POST.
func serve(h http.Handler, method string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/login?"+form.Encode(), nil)
	if method == http.MethodPost {
		req = httptest.NewRequest(method, "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A login handler tested with the kit. In a test file, testLogin is the
// body of func TestLogin(t *testing.T); an example has no *testing.T, so
// this one passes a stand-in that panics on failure.
func Example() {
	testLogin(exampleT{})
	// Output:
	// 200 welcome alice (phone 1)
	// 401 wrong code
}

// exampleT stands in for a *testing.T.
type exampleT struct{ testing.TB }

func (exampleT) Helper() {}

func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
