package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll/txn"
)

// currencies the withdrawal form offers.
var currencies = []string{"EUR", "USD", "CHF", "GBP", "JPY"}

// withdrawal is an executed withdrawal: what the phone signed, as the
// library returned it.
type withdrawal struct {
	Lines  []string // the transaction as the phone showed it
	Device string
	Method authn.Method
	At     time.Time
	tx     txn.Transaction
}

// ledger stands in for the payment system: it records the withdrawals
// executed, per user, in memory.
type ledger struct {
	mu sync.Mutex
	m  map[string][]withdrawal
}

func newLedger() *ledger { return &ledger{m: map[string][]withdrawal{}} }

func (l *ledger) add(userID string, w withdrawal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[userID] = append(l.m[userID], w)
}

func (l *ledger) list(userID string) []withdrawal {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]withdrawal(nil), l.m[userID]...)
}

// accountView is the data of the account page.
type accountView struct {
	NoFactor    bool
	Method      string
	Withdrawals []withdrawal
}

func (p *portal) account(w http.ResponseWriter, r *http.Request, s *session) {
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	p.render(w, s, http.StatusOK, "account", view{Title: "Your account", D: accountView{
		NoFactor: !facts.HasFactor(), Method: string(s.method), Withdrawals: p.ledger.list(s.user.ID)}})
}

// withdrawView is the data of the withdrawal form.
type withdrawView struct {
	Amount, Currency, To, Memo string
	From                       string
	Currencies                 []string
	HasDevice                  bool
	Waiting                    bool       // a withdrawal awaits its signature
	PushSpent                  *pushSpent // the push budget is spent (pushspent.go)
}

func (p *portal) withdrawPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := withdrawView{Currency: "EUR"}
	if f := s.kept("/withdraw"); f != nil {
		v = withdrawView{Amount: f.Get("amount"), Currency: f.Get("currency"), To: f.Get("to"), Memo: f.Get("memo")}
	}
	p.showWithdraw(w, r, s, http.StatusOK, "", v)
}

func (p *portal) showWithdraw(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string, v withdrawView) {
	if r.Method == http.MethodPost {
		s.keep("/withdraw", url.Values{"amount": {v.Amount}, "currency": {v.Currency}, "to": {v.To}, "memo": {v.Memo}})
		p.again(w, r, s, "/withdraw", errMsg)
		return
	}
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	v.From, v.Currencies, v.HasDevice, v.Waiting = s.user.Account, currencies, len(facts.Devices) > 0, s.withdrawal != nil
	if v.HasDevice {
		if v.PushSpent, err = p.pushBudgetSpent(r.Context(), s.user.ID); err != nil {
			p.internal(w, s, "push budget", err)
			return
		}
	}
	p.render(w, s, status, "withdraw", view{Title: "Withdraw money", Error: errMsg, D: v})
}

// parseAmount reads an amount as people type it, in the minor units of
// the currency (1234.5 EUR is 123450), or says why it cannot: the empty
// string when it read one. Either "." or "," may be the decimal
// separator (a phone in a comma-decimal locale offers only "," on its
// number keypad: "12,50" is 12.50, never 1250); spaces, no-break spaces
// and apostrophes may group thousands, and so may the separator that is
// not the decimal one when both appear ("1.234,50", "1,234.50"). One
// separator followed by exactly three digits ("1.234", "1,250") is
// refused, not guessed: it is a thousands group in some locales and
// three decimals in others.
func parseAmount(s, currency string) (int64, string) {
	const typeIt = "Type the amount as a number, such as 120.50 or 120,50, in a currency of the list."
	digits, ok := txn.CurrencyMinorUnits(currency)
	if !ok {
		return 0, typeIt
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\'':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" || len(s) > 32 || strings.Trim(s, "0123456789.,") != "" {
		return 0, typeIt
	}
	whole, frac := s, ""
	dot, comma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	switch dec := max(dot, comma); {
	case dot >= 0 && comma >= 0:
		// Both: the last is the decimal separator, once; the other groups.
		whole, frac = s[:dec], s[dec+1:]
		if strings.ContainsAny(frac, ".,") || strings.IndexByte(whole, s[dec]) >= 0 {
			return 0, typeIt
		}
		if whole = ungroup(whole, otherSep(s[dec])); whole == "" {
			return 0, typeIt
		}
	case dec >= 0 && strings.Count(s, s[dec:dec+1]) > 1:
		// One separator, several times: it groups thousands.
		if whole = ungroup(s, s[dec]); whole == "" {
			return 0, typeIt
		}
	case dec >= 0:
		whole, frac = s[:dec], s[dec+1:]
		if len(frac) == 3 {
			return 0, "Type the amount without a thousands separator: \"" + s + "\" reads as a thousands group in some places and as three decimals in others."
		}
		if frac == "" {
			return 0, typeIt
		}
	}
	if whole == "" || len(whole) > 15 {
		return 0, typeIt
	}
	if len(frac) > digits {
		if digits == 0 {
			return 0, "Type the amount in whole units: " + currency + " has no smaller unit."
		}
		return 0, fmt.Sprintf("Type the amount with at most %d digits after the decimal separator for %s.", digits, currency)
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n <= 0 {
		return 0, typeIt
	}
	return n, ""
}

// otherSep is the separator that is not sep.
func otherSep(sep byte) byte {
	if sep == '.' {
		return ','
	}
	return '.'
}

// ungroup removes the thousands separator sep from s, which must group
// its digits by three ("12,345,678"): the digits, or "" when it does not.
func ungroup(s string, sep byte) string {
	groups := strings.Split(s, string(sep))
	if len(groups) == 1 {
		return s
	}
	if len(groups[0]) == 0 || len(groups[0]) > 3 {
		return ""
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return ""
		}
	}
	return strings.Join(groups, "")
}

// txError says which field of a refused withdrawal is wrong.
func txError(err error) string {
	var te *txn.Error
	if errors.As(err, &te) {
		switch te.Field {
		case "amount":
			return "The amount is out of range."
		case "currency":
			return "That currency cannot be withdrawn."
		case "to":
			return "The destination account is not valid (" + te.Reason + ")."
		case "memo":
			return "The reference cannot be shown on the phone as it is (" + te.Reason + ")."
		case "from":
			return "Your account cannot be debited this way (" + te.Reason + ")."
		}
	}
	return "The withdrawal is not valid."
}

// withdrawStart builds the transaction and asks the phone to sign it: by
// push when push can be used, else by a QR code on the page.
func (p *portal) withdrawStart(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	v := withdrawView{Amount: r.PostFormValue("amount"), Currency: r.PostFormValue("currency"),
		To: r.PostFormValue("to"), Memo: r.PostFormValue("memo")}
	amount, why := parseAmount(v.Amount, v.Currency)
	if why != "" {
		p.showWithdraw(w, r, s, http.StatusOK, why, v)
		return
	}
	tx, err := txn.Transaction{Kind: txn.KindWithdrawal, Amount: amount, Currency: v.Currency,
		From: s.user.Account, To: v.To, Memo: v.Memo}.Normalize()
	if err != nil {
		p.showWithdraw(w, r, s, http.StatusOK, txError(err), v)
		return
	}
	facts, err := p.svc.Factors(ctx, s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	if len(facts.Devices) == 0 {
		p.showWithdraw(w, r, s, http.StatusOK, "Activate a phone first: withdrawals are signed on it.", v)
		return
	}
	p.dropWithdrawal(ctx, s)
	note := ""
	req, err := p.svc.BeginTransactionPush(ctx, s.user.ID, tx, p.pushContext(r, "Withdrawal"), p.from(r), p.knownClient(r))
	switch {
	case err == nil:
		s.withdrawal = &withdrawalState{tx: tx, typed: v.Amount, push: true, pushID: req.ID, pushNumber: req.Number, pushExpiry: req.ExpiresAt}
		redirect(w, r, "/withdraw/confirm")
		return
	case errors.Is(err, authn.ErrPushUnavailable):
		// Signed from a QR code instead, saying why.
		note = p.pushUnavailableNote(ctx, s.user.ID, err)
	case errors.Is(err, authn.ErrTooManyChallenges):
		p.showWithdraw(w, r, s, http.StatusTooManyRequests, "Too many requests to sign; wait a minute and try again.", v)
		return
	default:
		p.internal(w, s, "begin transaction push", err)
		return
	}
	if !p.beginQR(w, r, s, tx, note) {
		return
	}
	s.withdrawal.typed = v.Amount
	redirect(w, r, "/withdraw/confirm")
}

// beginQR starts signing tx from a QR code. It answers the request
// itself, and returns false, when that fails.
func (p *portal) beginQR(w http.ResponseWriter, r *http.Request, s *session, tx txn.Transaction, note string) bool {
	tc, err := p.svc.BeginTransaction(r.Context(), s.user.ID, tx, p.from(r), p.knownClient(r))
	switch {
	case errors.Is(err, authn.ErrTooManyChallenges):
		s.withdrawal = nil
		p.showWithdraw(w, r, s, http.StatusTooManyRequests, "Too many requests to sign; wait a minute and try again.", withdrawView{Currency: "EUR"})
		return false
	case err != nil:
		s.withdrawal = nil
		p.internal(w, s, "begin transaction", err)
		return false
	}
	s.withdrawal = &withdrawalState{tx: tx, id: tc.ID, nonce: tc.Nonce, expires: tc.ExpiresAt}
	s.warn(note)
	return true
}

// dropWithdrawal forgets the session's withdrawal, cancelling its push.
func (p *portal) dropWithdrawal(ctx context.Context, s *session) {
	if wd := s.withdrawal; wd != nil && wd.pushID != "" {
		_ = p.svc.CancelPush(ctx, s.user.ID, wd.pushID)
	}
	s.withdrawal = nil
}

// confirmView is the data of the page that asks for the signature.
type confirmView struct {
	Typed      string // the amount as typed
	Amount     string // the amount as read, as the phone shows it ("EUR 12.50")
	Lines      []string
	Push       bool
	PushNumber string
	Remaining  int
}

func (p *portal) withdrawConfirmPage(w http.ResponseWriter, r *http.Request, s *session) {
	p.showConfirm(w, r, s, http.StatusOK, "")
}

func (p *portal) showConfirm(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if p.again(w, r, s, "/withdraw/confirm", errMsg) {
		return
	}
	wd := s.withdrawal
	if wd == nil {
		redirect(w, r, "/withdraw")
		return
	}
	lines, err := wd.tx.Display()
	if err != nil {
		p.internal(w, s, "display transaction", err)
		return
	}
	now := p.clock()
	v := confirmView{Typed: strings.TrimSpace(wd.typed), Lines: lines, Push: wd.push, PushNumber: wd.pushNumber, Remaining: remaining(now, wd.expires)}
	for _, l := range lines {
		if a, ok := strings.CutPrefix(l, "Amount: "); ok {
			v.Amount = a
		}
	}
	if wd.push {
		v.Remaining = remaining(now, wd.pushExpiry)
	}
	p.render(w, s, status, "withdraw-confirm", view{Title: "Confirm the withdrawal", Error: errMsg, D: v})
}

// withdrawQR serves the QR code of the session's own transaction.
func (p *portal) withdrawQR(w http.ResponseWriter, r *http.Request, s *session) {
	wd := s.withdrawal
	if wd == nil || wd.push {
		http.NotFound(w, r)
		return
	}
	png, err := txn.QR(wd.nonce, wd.tx, 400)
	if err != nil {
		p.internal(w, s, "transaction QR", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

// withdrawConfirm checks the phone's response to the transaction QR code.
func (p *portal) withdrawConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	wd := s.withdrawal
	if wd == nil || wd.push {
		p.showWithdraw(w, r, s, http.StatusConflict, "There is no withdrawal waiting for a response: it was confirmed, cancelled or never started.", withdrawView{Currency: "EUR"})
		return
	}
	res, err := p.svc.FinishTransaction(r.Context(), s.user.ID, wd.id, stripSpaces(r.PostFormValue("response")), p.from(r), p.knownClient(r))
	if err == nil {
		p.execute(w, r, s, res)
		return
	}
	msg, keep := p.codeError(err, transactionTexts)
	if !keep {
		s.withdrawal = nil
		p.showWithdraw(w, r, s, http.StatusOK, msg, withdrawView{Currency: "EUR"})
		return
	}
	p.showConfirm(w, r, s, http.StatusOK, msg)
}

// withdrawUseQR leaves the push for a QR code.
func (p *portal) withdrawUseQR(w http.ResponseWriter, r *http.Request, s *session) {
	wd := s.withdrawal
	if wd == nil {
		redirect(w, r, "/withdraw")
		return
	}
	if !wd.push {
		redirect(w, r, "/withdraw/confirm")
		return
	}
	st, _ := p.svc.PushStatus(r.Context(), s.user.ID, wd.pushID, 0)
	p.dropWithdrawal(r.Context(), s)
	if st == authn.PushDenied {
		p.withdrawalDeclined(w, r, s)
		return
	}
	if p.beginQR(w, r, s, wd.tx, p.txPushNote(r, s, st)) {
		s.withdrawal.typed = wd.typed
		redirect(w, r, "/withdraw/confirm")
	}
}

// txPushNote says why the page left a transaction push for a QR code;
// after a failed approval (counted as a failed attempt, in the bucket of
// the browsers keyline does not know, as a wrong number at sign-in), with
// the tries left before the lock.
func (p *portal) txPushNote(r *http.Request, s *session, st authn.PushState) string {
	switch st {
	case authn.PushDenied:
		return "The withdrawal was denied on your phone. If you do want it, scan the code below instead."
	case authn.PushExpired:
		return "The request on your phone expired. Scan the code below instead."
	case authn.PushFailed:
		return "The phone's approval did not check out (a wrong number, or a signature that did not verify); that counted as a failed attempt." +
			p.wrongNumberTriesLeft(r, s) + " Scan the code below instead."
	}
	return ""
}

func (p *portal) withdrawPushStatus(w http.ResponseWriter, r *http.Request, s *session) {
	wd := s.withdrawal
	if wd == nil || !wd.push {
		writeJSON(w, http.StatusOK, statusReply{State: "none", Action: "reload"})
		return
	}
	st, err := p.svc.PushStatus(r.Context(), s.user.ID, wd.pushID, 0)
	if err != nil {
		writeJSON(w, http.StatusOK, statusReply{State: "unknown", Action: "fallback"})
		return
	}
	reply := pushReply(st)
	if reply.Action == "fallback" {
		reply.Message = p.txPushNote(r, s, st)
	}
	writeJSON(w, http.StatusOK, reply)
}

func (p *portal) withdrawPushFinish(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	ctx := r.Context()
	wd := s.withdrawal
	if wd == nil || !wd.push {
		redirect(w, r, "/withdraw/confirm")
		return
	}
	_, _ = p.svc.PushStatus(ctx, s.user.ID, wd.pushID, pushWait)
	res, err := p.svc.FinishPush(ctx, s.user.ID, wd.pushID, p.from(r), p.knownClient(r))
	var locked *authn.LockedError
	switch {
	case err == nil && res.Transaction != nil:
		p.execute(w, r, s, res)
		return
	case err == nil:
		p.internal(w, s, "finish transaction push", errors.New("an approved transaction push without its transaction"))
		return
	case errors.Is(err, authn.ErrPushPending):
		s.warn("Not approved yet: check the details on your phone, type the number and approve, then continue.")
		redirect(w, r, "/withdraw/confirm")
		return
	case errors.As(err, &locked):
		s.withdrawal = nil
		p.showWithdraw(w, r, s, http.StatusOK, p.lockedMessage(locked.RetryAfter), withdrawView{Currency: "EUR"})
		return
	case errors.Is(err, authn.ErrStoreUnavailable):
		p.internal(w, s, "finish transaction push", err)
		return
	}
	st, _ := p.svc.PushStatus(ctx, s.user.ID, wd.pushID, 0)
	p.dropWithdrawal(ctx, s)
	if st == authn.PushDenied {
		p.withdrawalDeclined(w, r, s)
		return
	}
	note := p.txPushNote(r, s, st)
	if note == "" {
		note = "The push did not confirm the withdrawal. Scan the code below instead."
	}
	if p.beginQR(w, r, s, wd.tx, note) {
		s.withdrawal.typed = wd.typed
		redirect(w, r, "/withdraw/confirm")
	}
}

func (p *portal) withdrawCancel(w http.ResponseWriter, r *http.Request, s *session) {
	if s.withdrawal != nil {
		p.dropWithdrawal(r.Context(), s)
		s.tell("Withdrawal cancelled.")
	}
	redirect(w, r, "/withdraw")
}

// execute carries out the withdrawal the phone signed. It takes the
// transaction from the Result — what FinishPush or FinishTransaction
// verified — and neither from the form nor from the session's copy: if
// the two ever differed, the signed one is the one the user saw.
func (p *portal) execute(w http.ResponseWriter, r *http.Request, s *session, res authn.Result) {
	s.withdrawal = nil
	if res.Transaction == nil {
		p.internal(w, s, "execute", errors.New("a transaction result without its transaction"))
		return
	}
	p.usage.record(res)
	tx := *res.Transaction
	lines, err := tx.Display()
	if err != nil {
		p.internal(w, s, "execute", err)
		return
	}
	done := withdrawal{Lines: lines, Device: res.DeviceName, Method: res.Method, At: res.At, tx: tx}
	p.ledger.add(s.user.ID, done)
	s.done = &done
	p.metrics.transactions.WithLabelValues("executed").Inc()
	p.log.Info("portal: withdrawal executed", "event", "withdrawal_executed", "user", s.user.ID, "device", res.DeviceID,
		"method", string(res.Method), "amount", tx.Amount, "currency", tx.Currency, "to", tx.To)
	redirect(w, r, "/withdraw/done")
}

func (p *portal) withdrawDone(w http.ResponseWriter, r *http.Request, s *session) {
	if s.done == nil {
		redirect(w, r, "/withdraw")
		return
	}
	p.render(w, s, http.StatusOK, "withdraw-done", view{Title: "Withdrawal done", D: *s.done})
}
