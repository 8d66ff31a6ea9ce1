package deviceapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

// Options tune NewHandler. The zero value is the default for every field,
// and a number of 0 or less takes its default: no limit is off by
// omission.
type Options struct {
	// MaxBody bounds a request body, in bytes, for every endpoint but
	// activation: default 16 KiB (a push answer or token is far smaller).
	MaxBody int64
	// MaxActivationBody bounds an activation request's body, in bytes:
	// default 192 KiB, room for a 64 KiB attestation in base64.
	MaxActivationBody int64

	// Device is each device's request budget, kept in the Service's
	// store so that it holds across instances: default 60 a minute.
	Device authn.DeviceLimit

	// IPRequests is how many requests one client address may make per
	// IPWindow, to any endpoint: default 600. Counted in this process's
	// memory (see the package documentation).
	IPRequests int
	// AnonymousIPRequests is how many requests one client address may
	// make per IPWindow to the endpoints without device authentication
	// (offer, activation): default 30.
	AnonymousIPRequests int
	// IPWindow is the window of both address limits: default 1 minute.
	IPWindow time.Duration
	// MaxTrackedIPs bounds how many addresses the limits remember:
	// default 65536; beyond, untracked addresses share one window.
	MaxTrackedIPs int
	// ClientIP returns the address a request is counted against: by
	// default the host of RemoteAddr, IPv6 reduced to its /64. Behind a
	// reverse proxy, read the address the proxy forwards.
	ClientIP func(*http.Request) string
	// ClientAddr returns the address the Service's allowlist
	// (authn.Config.Allow) checks for a device request: by default the
	// host of RemoteAddr, the zero Addr when it does not parse (refused
	// while an allowlist applies). Behind a reverse proxy, return the
	// address the proxy forwards, from a proxy you trust only.
	ClientAddr func(*http.Request) netip.Addr
	// Clock is the time of the address limits: default time.Now.
	// Request times are checked against the Service's clock, not this.
	Clock func() time.Time

	// Logger receives one line per refused request (and a debug line per
	// served one): the endpoint, status, code, client address and, once
	// authenticated, user and device; never a body, header, MAC, nonce,
	// code or session ID. Default: discarded.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultMaxBody             = 16 << 10
	DefaultMaxActivationBody   = 192 << 10
	DefaultIPRequests          = 600
	DefaultAnonymousIPRequests = 30
	DefaultIPWindow            = time.Minute
	DefaultMaxTrackedIPs       = 1 << 16
)

func (o Options) resolve() Options {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxActivationBody <= 0 {
		o.MaxActivationBody = DefaultMaxActivationBody
	}
	if o.Device.Requests <= 0 {
		o.Device.Requests = authn.DefaultDeviceRequests
	}
	if o.Device.Window <= 0 {
		o.Device.Window = authn.DefaultDeviceWindow
	}
	if o.IPRequests <= 0 {
		o.IPRequests = DefaultIPRequests
	}
	if o.AnonymousIPRequests <= 0 {
		o.AnonymousIPRequests = DefaultAnonymousIPRequests
	}
	if o.IPWindow <= 0 {
		o.IPWindow = DefaultIPWindow
	}
	if o.MaxTrackedIPs <= 0 {
		o.MaxTrackedIPs = DefaultMaxTrackedIPs
	}
	if o.ClientIP == nil {
		o.ClientIP = remoteIP
	}
	if o.ClientAddr == nil {
		o.ClientAddr = peerAddr
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Endpoint paths, below the handler's mount point.
const (
	PathOffer            = devicewire.PathOffer
	PathActivate         = devicewire.PathActivate
	PathPushes           = devicewire.PathPushes
	PathPush             = devicewire.PathPush
	PathPushAnswer       = devicewire.PathPushAnswer
	PathPushToken        = devicewire.PathPushToken
	PathMigration        = devicewire.PathMigration
	PathMigrationStatus  = devicewire.PathMigrationStatus
	PathMigrationConfirm = devicewire.PathMigrationConfirm
	PathDeviceStatus     = devicewire.PathDeviceStatus
)

// route is one endpoint.
type route struct {
	method     string
	device     bool     // authenticated by a device's request MAC
	status     bool     // the status call: authenticated by Service.DeviceStatus, which also tells a removed device
	activation bool     // the larger body limit
	query      []string // the query's keys, each exactly once; none if empty
	body       *object  // the body's shape, for POST
	serve      func(h *handler, c *call) (int, any, error)
}

// call is one request being served.
type call struct {
	ctx   context.Context
	body  []byte
	query url.Values
	dev   *authn.AuthenticatedDevice // nil until authenticated
	state authn.DeviceStatus         // the status call's answer
}

type handler struct {
	svc    *authn.Service
	opts   Options
	routes map[string]route
	ipAll  *ipLimiter
	ipAnon *ipLimiter
}

// NewHandler returns the device API for svc, as an http.Handler serving
// the paths under /v1/ (see the package documentation). Mount it where
// the phones expect it, for example
//
//	mux.Handle("/device/", http.StripPrefix("/device", deviceapi.NewHandler(svc, deviceapi.Options{})))
//
// and serve it over TLS only. It is safe for concurrent use.
func NewHandler(svc *authn.Service, opts Options) http.Handler {
	if svc == nil {
		panic("deviceapi: NewHandler needs a Service")
	}
	o := opts.resolve()
	return &handler{
		svc:    svc,
		opts:   o,
		routes: routes,
		ipAll:  newIPLimiter(o.IPRequests, o.IPWindow, o.MaxTrackedIPs, o.Clock),
		ipAnon: newIPLimiter(o.AnonymousIPRequests, o.IPWindow, o.MaxTrackedIPs, o.Clock),
	}
}

var routes = map[string]route{
	PathOffer:            {method: http.MethodPost, body: shapeSession, serve: (*handler).offer},
	PathActivate:         {method: http.MethodPost, activation: true, body: shapeActivate, serve: (*handler).activate},
	PathPushes:           {method: http.MethodGet, device: true, serve: (*handler).pushes},
	PathPush:             {method: http.MethodGet, device: true, query: []string{"id"}, serve: (*handler).push},
	PathPushAnswer:       {method: http.MethodPost, device: true, body: shapeAnswer, serve: (*handler).answer},
	PathPushToken:        {method: http.MethodPost, device: true, body: shapePushToken, serve: (*handler).pushToken},
	PathMigration:        {method: http.MethodPost, device: true, body: shapeEmpty, serve: (*handler).migrate},
	PathMigrationStatus:  {method: http.MethodPost, device: true, body: shapeSession, serve: (*handler).migrationStatus},
	PathMigrationConfirm: {method: http.MethodPost, device: true, body: shapeConfirmation, serve: (*handler).migrationConfirm},
	PathDeviceStatus:     {method: http.MethodGet, device: true, status: true, serve: (*handler).deviceStatus},
}

// ServeHTTP serves one request: protocol version, route, method, address limits, body
// (bounded), query and media type, device authentication, then the
// endpoint. Every refusal is an answer from the error table.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setDate(w, h.svc.Now())
	if err := checkVersion(w, r); err != nil {
		h.fail(w, r, "", nil, err)
		return
	}
	rt, ok := h.routes[r.URL.Path]
	if !ok {
		h.fail(w, r, "", nil, errNoRoute)
		return
	}
	path := r.URL.Path
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		h.fail(w, r, path, nil, errMethod)
		return
	}
	addr := h.opts.ClientIP(r)
	if ok, wait := h.ipAll.allow(addr); !ok {
		h.retryAfter(w, wait)
		h.fail(w, r, path, nil, errIPRateLimited)
		return
	}
	if !rt.device {
		if ok, wait := h.ipAnon.allow(addr); !ok {
			h.retryAfter(w, wait)
			h.fail(w, r, path, nil, errIPRateLimited)
			return
		}
	}
	limit := h.opts.MaxBody
	if rt.activation {
		limit = h.opts.MaxActivationBody
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		h.fail(w, r, path, nil, err)
		return
	}
	c := &call{ctx: r.Context(), body: body}
	if c.query, err = parseQuery(r.URL.RawQuery, rt.query); err != nil {
		h.fail(w, r, path, nil, err)
		return
	}
	switch {
	case rt.method == http.MethodGet && len(body) != 0:
		h.fail(w, r, path, nil, fmt.Errorf("%w: a GET request has no body", errBadRequest))
		return
	case rt.method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")):
		h.fail(w, r, path, nil, errMediaType)
		return
	}
	if rt.device {
		if c.dev, c.state, err = h.authenticate(r, path, body, rt.status); err != nil {
			h.fail(w, r, path, nil, err)
			return
		}
	}
	status, answer, err := rt.serve(h, c)
	if err != nil {
		h.fail(w, r, path, c.dev, err)
		return
	}
	h.opts.Logger.LogAttrs(c.ctx, slog.LevelDebug, "keyline deviceapi: served", h.attrs(r, path, c.dev, status, "")...)
	writeJSON(w, status, answer)
}

// readBody reads the whole body, refusing one over limit bytes
// (errTooLarge) before reading it when its length is declared, and as
// soon as it passes the limit otherwise.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, fmt.Errorf("%w: the body could not be read", errBadRequest)
	}
	return b, nil
}

// parseQuery reads a raw query strictly: exactly the keys given, each
// once, or none at all.
func parseQuery(raw string, keys []string) (url.Values, error) {
	if raw == "" && len(keys) == 0 {
		return url.Values{}, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the query is not well formed", errBadRequest)
	}
	if len(q) != len(keys) {
		return nil, fmt.Errorf("%w: the query must have exactly the parameters %q", errBadRequest, keys)
	}
	for _, k := range keys {
		if len(q[k]) != 1 {
			return nil, fmt.Errorf("%w: the query must have the parameter %q once", errBadRequest, k)
		}
	}
	return q, nil
}

// isJSON accepts application/json, with at most a charset of utf-8.
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || (v != "utf-8" && v != "UTF-8") {
			return false
		}
	}
	return true
}

// authenticate checks the request's Authorization header and MAC with
// the Service: the path is the endpoint's, as routed below the mount
// point, the query the raw one received, and the body hash that of the
// bytes read. The connection's peer address goes with it, for the
// Service's allowlist (authn.Config.Allow). The status call (status set)
// is checked by authn.Service.DeviceStatus instead, whose answer it
// returns: an active device's comes with no AuthenticatedDevice, and so
// does a removed device's.
func (h *handler) authenticate(r *http.Request, path string, body []byte, status bool) (*authn.AuthenticatedDevice, authn.DeviceStatus, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return nil, authn.DeviceStatus{}, fmt.Errorf("%w: authorization: want exactly one header", enroll.ErrInvalidAPIRequest)
	}
	req, mac, err := enroll.ParseAPIAuthorization(vals[0])
	if err != nil {
		return nil, authn.DeviceStatus{}, err
	}
	req.Method, req.Path, req.Query, req.BodyHash = r.Method, path, r.URL.RawQuery, sha256.Sum256(body)
	from := authn.FromAddr(h.opts.ClientAddr(r))
	if status {
		st, err := h.svc.DeviceStatus(r.Context(), req, mac, h.opts.Device, from)
		return nil, st, err
	}
	d, err := h.svc.AuthenticateDevice(r.Context(), req, mac, h.opts.Device, from)
	return d, authn.DeviceStatus{}, err
}

// fail answers err from the error table, and logs it.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, path string, dev *authn.AuthenticatedDevice, err error) {
	row := classify(err)
	switch {
	case errors.Is(err, authn.ErrRateLimited):
		h.retryAfter(w, h.opts.Device.Window)
	case errors.Is(err, authn.ErrStoreUnavailable):
		h.retryAfter(w, time.Second)
	}
	var locked *authn.LockedError
	if errors.As(err, &locked) {
		h.retryAfter(w, locked.RetryAfter)
	}
	level := slog.LevelInfo
	switch {
	case row.status >= 500:
		level = slog.LevelError
	case row.status == http.StatusUnauthorized || row.status == http.StatusTooManyRequests:
		level = slog.LevelWarn
	}
	attrs := h.attrs(r, path, dev, row.status, row.code)
	if row.status >= 500 {
		// Errors of the store and the keyring name no secret (the
		// convention of every keyline error); the operator needs them.
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.opts.Logger.LogAttrs(r.Context(), level, "keyline deviceapi: refused", attrs...)
	writeJSON(w, row.status, answerOf(row, err))
}

func (h *handler) attrs(r *http.Request, path string, dev *authn.AuthenticatedDevice, status int, code string) []slog.Attr {
	if path == "" {
		path = "(unknown)" // never echo a path that no route matched
	}
	a := []slog.Attr{slog.String("endpoint", r.Method+" "+path), slog.Int("status", status), slog.String("client", h.opts.ClientIP(r))}
	if code != "" {
		a = append(a, slog.String("code", code))
	}
	if d := dev.Device(); d.ID != "" {
		a = append(a, slog.String("user", d.User), slog.String("device", d.ID))
	}
	return a
}

// retryAfter sets Retry-After in whole seconds, rounded up.
func (h *handler) retryAfter(w http.ResponseWriter, d time.Duration) {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(s, 10))
}

// writeJSON writes an answer: JSON, never cached; 204 has no body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusNoContent || v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"internal error"}`)
	}
	b = append(b, '\n')
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h *handler) offer(c *call) (int, any, error) {
	var in devicewire.SessionRequest
	if err := decodeStrict(c.body, shapeSession, &in); err != nil {
		return 0, nil, err
	}
	o, err := h.svc.Offer(c.ctx, in.SessionID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, devicewire.OfferAnswer{Offer: o.URI()}, nil
}

func (h *handler) activate(c *call) (int, any, error) {
	var req enroll.Request
	if err := decodeStrict(c.body, shapeActivate, &req); err != nil {
		return 0, nil, err
	}
	act, err := h.svc.CompleteActivation(c.ctx, req)
	var retry *enroll.AlreadyUsedError
	if errors.As(err, &retry) {
		// A byte-identical retry of the request that won (its reply was
		// lost): the same answer again.
		paired := false
		if devs, derr := h.svc.Devices(c.ctx, retry.Device.User); derr == nil {
			for _, d := range devs {
				paired = paired || (d.ID == retry.Device.ID && d.State == authn.DeviceActive)
			}
		}
		return http.StatusOK, devicewire.ActivationAnswer{DeviceID: retry.Device.ID, ServerConfirm: retry.ServerConfirm, Paired: paired}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, devicewire.ActivationAnswer{DeviceID: act.Device.ID, ServerConfirm: act.ServerConfirm,
		Paired: act.Device.State == authn.DeviceActive}, nil
}

func (h *handler) pushes(c *call) (int, any, error) {
	p, err := c.dev.PendingPushes(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	if p == nil {
		p = [][]byte{}
	}
	return http.StatusOK, devicewire.PromptsAnswer{Prompts: p}, nil
}

func (h *handler) push(c *call) (int, any, error) {
	p, err := c.dev.PushPrompt(c.ctx, c.query.Get("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, devicewire.PromptAnswer{Prompt: p}, nil
}

func (h *handler) answer(c *call) (int, any, error) {
	var a enroll.PushAnswer
	if err := decodeStrict(c.body, shapeAnswer, &a); err != nil {
		return 0, nil, err
	}
	if err := c.dev.AnswerPush(c.ctx, a); err != nil {
		return 0, nil, err
	}
	result := "denied"
	if a.Approve {
		result = "approved"
	}
	return http.StatusOK, devicewire.ResultAnswer{Result: result}, nil
}

func (h *handler) pushToken(c *call) (int, any, error) {
	var in devicewire.PushTokenRequest
	if err := decodeStrict(c.body, shapePushToken, &in); err != nil {
		return 0, nil, err
	}
	if err := c.dev.SetPushToken(c.ctx, in.PushToken); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (h *handler) migrate(c *call) (int, any, error) {
	var in struct{}
	if err := decodeStrict(c.body, shapeEmpty, &in); err != nil {
		return 0, nil, err
	}
	o, err := c.dev.StartMigration(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, devicewire.OfferAnswer{Offer: o.URI()}, nil
}

func (h *handler) migrationStatus(c *call) (int, any, error) {
	var in devicewire.SessionRequest
	if err := decodeStrict(c.body, shapeSession, &in); err != nil {
		return 0, nil, err
	}
	st, err := c.dev.MigrationStatus(c.ctx, in.SessionID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, devicewire.StatusAnswer{Status: string(st.State), TriesLeft: st.TriesLeft}, nil
}

func (h *handler) migrationConfirm(c *call) (int, any, error) {
	var in devicewire.ConfirmationRequest
	if err := decodeStrict(c.body, shapeConfirmation, &in); err != nil {
		return 0, nil, err
	}
	d, err := c.dev.ConfirmMigration(c.ctx, in.SessionID, in.PairingCode)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, devicewire.DeviceAnswer{DeviceID: d.ID}, nil
}

func (h *handler) deviceStatus(c *call) (int, any, error) {
	a := devicewire.DeviceStatusAnswer{Status: string(c.state.State)}
	if c.state.State == authn.StatusRemoved {
		a.RemovedAt = c.state.RemovedAt.Unix()
	}
	return http.StatusOK, a, nil
}
