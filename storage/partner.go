package storage

import (
	"context"
	"log/slog"
	"time"
)

// What partner-grade OAuth keeps (RFC 9126 pushed authorization requests,
// the one-time identifiers of client assertions), each a role of its own
// so that the provider asks for no more than it needs.

// PushedRequest is an authorization request a client pushed to the
// pushed authorization request endpoint (RFC 9126), waiting for the
// browser to bring its request_uri to /authorize.
type PushedRequest struct {
	// ID is the HMAC of the request_uri handed to the client: the value
	// itself never reaches storage.
	ID       string
	ClientID string
	// Params are the authorization request's parameters as validated when
	// it was pushed (a request object's claims already taken out of it).
	Params    map[string][]string
	Consumed  bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Expired reports whether the request_uri is past its lifetime.
func (r PushedRequest) Expired(now time.Time) bool { return !now.Before(r.ExpiresAt) }

// LogValue keeps the parameters (a state, a nonce, a login hint) out of logs.
func (r PushedRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", r.ClientID), slog.Time("expires_at", r.ExpiresAt))
}

// PushedRequests stores pushed authorization requests. Each is used once:
// ClaimPushedRequest hands it out a single time, whatever the number of
// callers and replicas.
type PushedRequests interface {
	// CreatePushedRequest stores a new request; ErrAlreadyExists when its
	// id is taken.
	CreatePushedRequest(ctx context.Context, r PushedRequest) error
	// ClaimPushedRequest atomically marks the request consumed and returns
	// it (Consumed set). It claims only a request of clientID: another
	// client's, like an unknown one or one expired at now, is ErrNotFound
	// and stays as it was. A request already claimed returns an error
	// wrapping ErrConsumed. A claimed request stays stored, consumed,
	// until it expires, so that a second use is told from an unknown one.
	ClaimPushedRequest(ctx context.Context, id, clientID string, now time.Time) (PushedRequest, error)
}

// UsedJTI records that a one-time identifier was used: the jti of a
// client assertion (RFC 7523 §3, OpenID Connect Core 1.0 §9), keyed
// with what it identifies (its client), until the assertion expires.
type UsedJTI struct {
	// Key is the caller's key for the identifier (an HMAC of the kind,
	// the issuer and the jti): identifiers of different clients or kinds
	// never collide.
	Key       string
	ExpiresAt time.Time
}

// JTIs is the replay store of one-time identifiers. A use is one atomic
// step, so that of two requests carrying the same identifier, on one
// replica or two, exactly one gets through.
type JTIs interface {
	// UseJTI records j. A key recorded before and not expired at now
	// returns an error wrapping ErrConsumed, and nothing is written; an
	// expired record of the key is replaced.
	UseJTI(ctx context.Context, j UsedJTI, now time.Time) error
	// JTIUsed reports whether key is recorded and not expired at now,
	// writing nothing. A single-process backend's caller keeps most uses
	// in its own memory and asks here for the ones it wrote (see
	// provider/replay.go); its answer is as fresh as UseJTI's.
	JTIUsed(ctx context.Context, key string, now time.Time) (bool, error)
}
