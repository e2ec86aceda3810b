package provider

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// The device's side of the device grant (RFC 8628 §3.4, §3.5): the token
// endpoint polled with a device_code. Each poll is one
// storage.UpdateDeviceGrant, so that what it decides holds across
// replicas: the interval (a poll sooner than the grant's interval after
// the last is slow_down, and the interval grows by 5 s, RFC 8628 §3.5),
// the member's answer (authorization_pending, access_denied), and single
// use (the approved grant becomes consumed in the update that hands its
// tokens out; a later poll is invalid_grant). A poll by another client
// changes nothing and is invalid_grant.
//
// The tokens are the code flow's: the approval the login UI recorded (the
// member, the login's acr, amr, auth time and session) becomes an
// authorization request done, and op mints from it as from a code's
// (an ID token with the member's claims, a refresh token with
// offline_access when the client holds the refresh grant).

// slowDownStep is what each slow_down adds to the interval (RFC 8628 §3.5).
const slowDownStep = 5 * time.Second

// GrantDeviceCode is the device authorization grant's type.
const GrantDeviceCode = string(oidc.GrantTypeDeviceCode)

// errOtherClient: a device_code presented by a client it was not issued to.
var errOtherClient = errors.New("provider: the device code was issued to another client")

// pollOutcome is what one poll decided.
type pollOutcome int

const (
	pollPending pollOutcome = iota
	pollSlowDown
	pollDenied
	pollApproved
)

// poll is the pure decision of one poll of g at now (storage may run it
// more than once): the grant to store and the outcome.
func poll(g storage.DeviceGrant, clientID string, now time.Time) (storage.DeviceGrant, pollOutcome, error) {
	switch {
	case g.ClientID != clientID:
		return g, 0, errOtherClient
	case g.Status == storage.DeviceConsumed:
		return g, 0, storage.ErrConsumed
	}
	// A tenth of the interval is forgiven: a client polling on a timer
	// reaches the server with some jitter, and must not be slowed for it.
	tooSoon := now.Before(g.LastPoll.Add(g.Interval - g.Interval/10))
	g.LastPoll = now
	switch {
	case tooSoon:
		g.Interval += slowDownStep
		return g, pollSlowDown, nil
	case g.Status == storage.DeviceDenied:
		return g, pollDenied, nil
	case g.Status == storage.DeviceApproved:
		g.Status = storage.DeviceConsumed
		return g, pollApproved, nil
	}
	return g, pollPending, nil
}

// deviceCodeGrant answers a poll of the token endpoint.
func (p *Provider) deviceCodeGrant(ctx context.Context, call tokenCall) (any, *oidc.Error) {
	code := call.form.Get("device_code")
	if code == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("device_code is required")
	}
	now := p.now().UTC()
	var outcome pollOutcome
	g, err := p.store.UpdateDeviceGrant(ctx, p.tokenHash("device_code", code), now,
		func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
			next, o, err := poll(g, call.client.ID, now)
			outcome = o
			return next, err
		})
	switch {
	case errors.Is(err, errOtherClient):
		p.log.WarnContext(ctx, "device code presented by another client", "client_id", call.client.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the device_code was issued to another client")
	case errors.Is(err, storage.ErrConsumed):
		return nil, oidc.ErrInvalidGrant().WithDescription("the device_code has already been used")
	case errors.Is(err, storage.ErrNotFound) && deviceCodeExpired(code, now):
		return nil, (&oidc.Error{ErrorType: oidc.ExpiredToken}).WithDescription("the device_code has expired: start again")
	case errors.Is(err, storage.ErrNotFound):
		// An expired grant not yet removed is ErrNotFound too, and its
		// code's own expiry has passed: expired_token above.
		return nil, oidc.ErrInvalidGrant().WithDescription("the device_code is unknown")
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	}
	switch outcome {
	case pollSlowDown:
		return nil, oidc.ErrSlowDown().WithDescription("polling too fast: wait %d seconds between polls", int(g.Interval/time.Second))
	case pollPending:
		return nil, oidc.ErrAuthorizationPending().WithDescription("the member has not answered yet")
	case pollDenied:
		return nil, oidc.ErrAccessDenied().WithDescription("the member declined the request")
	}
	p.log.InfoContext(ctx, "device grant redeemed", "client_id", g.ClientID)
	return p.deviceTokens(ctx, call, g)
}

// deviceTokens mints the tokens of an approved grant, just consumed, from
// the login that approved it, unless the member's credentials changed or
// the session ended since.
func (p *Provider) deviceTokens(ctx context.Context, call tokenCall, g storage.DeviceGrant) (any, *oidc.Error) {
	now := p.now().UTC()
	r := storage.AuthRequest{
		ID: timeID(now, 18), ClientID: g.ClientID, ResponseType: string(oidc.ResponseTypeCode), Scopes: g.Scopes,
		MemberID: g.MemberID, Done: true, AuthTime: g.AuthTime, ACR: g.ACR, AMR: g.AMR, SessionID: g.SessionID,
		BrowserSession: g.SessionID, MemberStamp: g.MemberStamp, CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt,
	}
	if g.MemberID == "" {
		return nil, oidc.ErrServerError().WithParent(errors.New("provider: an approved device grant without a member"))
	}
	if changed, err := p.credentialsChanged(ctx, r); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	} else if changed {
		return nil, oidc.ErrInvalidGrant().WithDescription("the member's credentials changed after approving this device")
	}
	revoked, err := p.store.TokenRevoked(ctx, storage.Token{ClientID: g.ClientID, MemberID: g.MemberID,
		SessionID: g.SessionID, AuthRequestID: r.ID, CreatedAt: g.DecidedAt})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	} else if revoked {
		return nil, oidc.ErrInvalidGrant().WithDescription("the session the device was approved in has ended")
	}
	a, err := p.wrapAuthRequest(ctx, r)
	if err != nil {
		return nil, asOAuthError(err)
	}
	resp, err := op.CreateTokenResponse(ctx, a, p.opClient(call.client), p.op, true, "", "")
	if err != nil {
		return nil, asOAuthError(err)
	}
	return resp, nil
}
