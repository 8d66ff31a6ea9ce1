package keylinecore

import (
	"context"
	"strings"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/txn"
)

// Prompt is a push request the phone fetched and opened (its MAC, its
// addressee and its expiry checked): show the context and, if it carries
// one, the transaction, then ask the user for the number the login page
// shows and AnswerPush. It holds no secret. A Prompt made by the app
// (rather than returned by the core) cannot be answered.
type Prompt struct {
	AccountID   string // the account it is for
	RequestID   string // the server's ID of the request
	Issuer      string // the service
	AccountName string // the account's label
	Action      string // what is to be approved, e.g. "Login"
	IP          string // the client's IP address, or ""
	Place       string // where that address is, or ""
	Browser     string // the client's browser and system, or ""
	ExpiresUnix int64  // when the request expires, Unix seconds (server time)
	// TransactionLines is the transaction to confirm, when the request
	// signs one: its display lines (enroll/txn's Display, English
	// labels), joined by "\n" (a line never holds one); "" for a plain
	// approval. Show each line as its own paragraph.
	TransactionLines string

	prompt enroll.PushPrompt // what AnswerPush answers; zero in a Prompt the app made
}

// PromptList is a list crossing the bridge as a getter object: Len and
// At, oldest request first.
type PromptList struct {
	items []*Prompt
}

// Len returns the number of prompts.
func (l *PromptList) Len() int { return len(l.items) }

// At returns the i-th prompt, or nil when i is out of range.
func (l *PromptList) At(i int) *Prompt {
	if i < 0 || i >= len(l.items) {
		return nil
	}
	return l.items[i]
}

// promptOf describes an opened prompt; a transaction that does not
// parse is refused (the phone shows nothing of it).
func promptOf(accountID string, cred *enroll.Credential, pp enroll.PushPrompt) (*Prompt, error) {
	out := &Prompt{AccountID: accountID, RequestID: pp.RequestID, Issuer: pp.Issuer, AccountName: cred.AccountName(),
		Action: pp.Context.Action, IP: pp.Context.IP, Place: pp.Context.Place, Browser: pp.Context.Browser,
		ExpiresUnix: pp.ExpiresAt.Unix(), prompt: pp}
	if len(pp.Transaction) > 0 {
		t, err := txn.Parse(pp.Transaction)
		if err != nil {
			return nil, err
		}
		lines, err := t.Display()
		if err != nil {
			return nil, err
		}
		out.TransactionLines = strings.Join(lines, "\n")
	}
	return out, nil
}

// FetchPushes fetches an account's pending push requests and opens each
// (PROTOCOL.md §11: a phone without a push service polls this every 5
// seconds in the foreground). A prompt that does not open is left out.
func (p *Phone) FetchPushes(accountID string, cancel *Cancel) (*PromptList, error) {
	l := &PromptList{}
	err := p.accountCall(accountID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		pps, err := c.Pushes(ctx, cred)
		if err != nil {
			return err
		}
		for _, pp := range pps {
			if pr, err := promptOf(accountID, cred, pp); err == nil {
				l.items = append(l.items, pr)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// FetchPush fetches and opens the prompt of one push request of an
// account, named by a notification: CodeNotFound when it did not notify
// this account, CodeExpired, CodeAlreadyUsed.
func (p *Phone) FetchPush(accountID, requestID string, cancel *Cancel) (*Prompt, error) {
	var out *Prompt
	err := p.accountCall(accountID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		pp, err := c.Push(ctx, cred, requestID)
		if err != nil {
			return err
		}
		out, err = promptOf(accountID, cred, pp)
		return err
	})
	return out, err
}

// FetchPushForServer is FetchPush for a notification that names only
// the request (PROTOCOL.md §11, "Push payloads"): it asks for it with
// each account of the server the notification came from, and returns
// the prompt of the one it notified; when none was, the first other
// failure (CodeDeviceRemoved, CodeUnreachable, ...), else CodeNotFound.
func (p *Phone) FetchPushForServer(serverURL, requestID string, cancel *Cancel) (*Prompt, error) {
	server := normServer(serverURL)
	l, err := p.Accounts()
	if err != nil {
		return nil, err
	}
	var first error // of an account that failed otherwise than "not found"
	for _, a := range l.items {
		if a.Server != server || !a.Paired || a.RemovedUnix != 0 {
			continue
		}
		pr, err := p.FetchPush(a.ID, requestID, cancel)
		switch {
		case err == nil:
			return pr, nil
		case ErrorCode(err) == CodeCancelled:
			return nil, err
		case ErrorCode(err) != CodeNotFound && first == nil:
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return nil, newError(CodeNotFound, "no account of this server was notified of the request")
}

// AnswerPush answers a prompt the core returned, with the user's
// decision and the number they typed (2 digits; "" is allowed for a
// denial). An approval asks the BiometricGate first (CodePresence if the
// user does not confirm: nothing is sent); an approval of a transaction
// signs it. The answer is made at the server's time; one refused for
// its time is made again once, at the time the server gave. Outcomes:
// nil (the server took it), CodeWrongNumber, CodeInvalidCode (both end
// the request), CodeExpired, CodeAlreadyUsed (another answer was first),
// CodeNotFound.
func (p *Phone) AnswerPush(prompt *Prompt, approve bool, typedNumber string, cancel *Cancel) error {
	if prompt == nil || prompt.prompt.RequestID == "" {
		return newError(CodeInvalidInput, "the prompt was not returned by the core")
	}
	if approve {
		reason := "Approve " + prompt.Action + " at " + prompt.Issuer
		if prompt.TransactionLines != "" {
			reason = "Sign the transaction at " + prompt.Issuer
		}
		if err := p.presence(reason); err != nil {
			return err
		}
	}
	return p.accountCall(prompt.AccountID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		return c.AnswerPush(ctx, cred, prompt.prompt, approve, typedNumber)
	})
}
