package provider

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// authRequestByID is the request as this HTTP request last stored it (the
// login UI's complete, just before AnswerAuthRequest: storage.WithHandoff
// says why that is safe), or else as the store has it.
func (p *Provider) authRequestByID(ctx context.Context, id string) (storage.AuthRequest, error) {
	if r, ok := storage.HandedAuthRequest(ctx, id); ok {
		return r, nil
	}
	return p.store.AuthRequestByID(ctx, id)
}

// SaveAuthCode records the code's HMAC. A request yields one code only: a
// second visit to the callback is refused. The request comes from the
// login UI's complete within this HTTP request, as a rule (handed off:
// no read); the mark and the code are one commit (IssueAuthCode), which
// decides on the row as stored.
func (s *opStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	p := s.p
	req, err := p.authRequestByID(ctx, id)
	if err != nil {
		return storageFailed(err)
	}
	if req.CodeIssued {
		return oidc.ErrInvalidRequest().WithDescription("this authorization request has already been answered")
	}
	// Before the code leaves: the session's end must reach every client
	// that may hold its sid (back-channel logout, backchannel.go).
	if err := p.recordSessionClient(ctx, req.SessionID, req.ClientID); err != nil {
		return storageFailed(err)
	}
	c := storage.AuthCode{Hash: p.codeKey(id, code), AuthRequestID: id}
	sealed, isSealed := p.sealedOf(ctx, code)
	switch {
	case isSealed && sealed.r.ID != id:
		return oidc.ErrServerError().WithParent(errRequestChanged)
	case isSealed:
		// The times the code carries are the code's (codeseal.go).
		c.CreatedAt, c.ExpiresAt = sealed.c.CreatedAt, sealed.c.ExpiresAt
	default:
		now := p.now().UTC()
		c.CreatedAt, c.ExpiresAt = now, now.Add(p.codeTTL(ctx, req.ClientID))
	}
	var issued storage.AuthRequest
	err = p.store.IssueAuthCode(ctx, c, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		if r.CodeIssued {
			return r, errCodeIssued
		}
		if r.ClientID != req.ClientID || r.SessionID != req.SessionID {
			// What the code's lifetime and the session's clients were
			// taken from is not the request as stored.
			return r, errRequestChanged
		}
		r.CodeIssued = true
		if isSealed && !sameCodeGrant(r, sealed.r) {
			// The code would carry another request than the one stored
			// with it: the token endpoint decides from what it carries.
			return r, errRequestChanged
		}
		issued = r
		return r, nil
	})
	if errors.Is(err, errCodeIssued) {
		return oidc.ErrInvalidRequest().WithDescription("this authorization request has already been answered")
	}
	if err != nil {
		return storageFailed(err)
	}
	storage.HandOffAuthRequest(ctx, issued)
	return nil
}

var errRequestChanged = errors.New("auth request changed while its code was issued")

var errCodeIssued = errors.New("code already issued")
