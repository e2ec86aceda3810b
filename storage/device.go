package storage

import (
	"context"
	"log/slog"
	"time"
)

// DeviceGrantStatus is where a device authorization (RFC 8628) stands.
type DeviceGrantStatus string

// Device grant states: pending until the member decides in a browser,
// then approved or denied; an approved grant becomes consumed when the
// device's token request takes it, once.
const (
	DevicePending  DeviceGrantStatus = "pending"
	DeviceApproved DeviceGrantStatus = "approved"
	DeviceDenied   DeviceGrantStatus = "denied"
	DeviceConsumed DeviceGrantStatus = "consumed"
)

// DeviceGrant is one device authorization request (RFC 8628 §3.1): what
// the device asked for, how fast it may poll, and what the member decided
// in a browser. Neither secret is stored: ID is the HMAC of the
// device_code, UserCode the HMAC of the normalised user code.
type DeviceGrant struct {
	ID       string
	UserCode string
	ClientID string
	Scopes   []string
	// Interval is the least time between two polls; slow_down adds to it
	// (RFC 8628 §3.5). LastPoll is the time of the last poll (the grant's
	// creation before the first).
	Interval time.Duration
	LastPoll time.Time
	Status   DeviceGrantStatus
	// Entries counts how many times the user code was entered in a
	// browser: a code shown to too many people stops being accepted.
	Entries int

	// Written when the member approves, from the login that approved.
	MemberID    string
	AuthTime    time.Time
	ACR         string
	AMR         []string
	SessionID   string
	MemberStamp string
	DecidedAt   time.Time

	CreatedAt time.Time
	ExpiresAt time.Time
}

// Expired reports whether the grant is past its lifetime.
func (g DeviceGrant) Expired(now time.Time) bool { return !now.Before(g.ExpiresAt) }

// LogValue keeps the keys of the codes out of logs.
func (g DeviceGrant) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", g.ClientID), slog.String("status", string(g.Status)),
		slog.Time("expires_at", g.ExpiresAt))
}

// DeviceGrants stores device authorization requests (RFC 8628). What
// decides a security outcome (the poll interval and slow_down, the
// member's decision, single use) is one UpdateDeviceGrant: serialised
// with every other update of the grant, in any process.
type DeviceGrants interface {
	// CreateDeviceGrant stores a new grant; ErrAlreadyExists when its ID
	// or its UserCode is taken by a grant still stored.
	CreateDeviceGrant(ctx context.Context, g DeviceGrant) error
	// DeviceGrantByUserCode returns the grant whose UserCode is userCode;
	// ErrNotFound when there is none or it has expired at now.
	DeviceGrantByUserCode(ctx context.Context, userCode string, now time.Time) (DeviceGrant, error)
	// UpdateDeviceGrant gives fn the grant id and stores what it returns;
	// ErrNotFound when there is none or it has expired at now. fn may run
	// more than once, must be pure and must not call the store; its error
	// aborts the update (nothing is written) and is returned. It returns
	// the grant as stored.
	UpdateDeviceGrant(ctx context.Context, id string, now time.Time, fn func(DeviceGrant) (DeviceGrant, error)) (DeviceGrant, error)
}
