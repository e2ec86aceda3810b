package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"tsubasa/storage"
)

// LogoutStore is the part of storage that Logouts needs.
type LogoutStore interface {
	ClientByID(ctx context.Context, id string) (storage.Client, error)
	SessionByID(ctx context.Context, id string) (storage.Session, error)
	ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error)
	EnqueueMessage(ctx context.Context, m storage.OutboxMessage) error
}

// Logouts queues back-channel logouts (OpenID Connect Back-Channel
// Logout 1.0): when a session ends, one outbox message for each client
// the session gave a code to that registered a backchannel_logout_uri.
// The worker signs the logout token and posts it (the provider's
// Deliverer), so the member's logout never waits for a relying party.
//
// Every caller that ends sessions calls Ending before it deletes them:
// the messages are stored first, so a crash between the two loses none,
// and a deletion that then fails sends a logout token for a session that
// lives on, which only logs the member out of the relying party (the safe
// side). A message's id is derived from the session and the client, so
// calling Ending again for the same session (before and after a commit
// that ends sessions, or twice by two replicas) queues nothing twice.
// A nil *Logouts does nothing.
type Logouts struct {
	store LogoutStore
	now   func() time.Time
	kick  func()
	log   *slog.Logger
}

// NewLogouts returns a Logouts over store; kick, when set, wakes the
// outbox worker after something was queued.
func NewLogouts(store LogoutStore, now func() time.Time, kick func(), log *slog.Logger) *Logouts {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Logouts{store: store, now: now, kick: kick, log: log.With("component", "backchannel_logout")}
}

// Ending queues the logouts of sessions, which are about to end (or just
// ended). Sessions without a member, or whose clients registered no
// back-channel logout URI, queue nothing. A failure to queue is logged,
// never returned: a logout goes ahead whatever the relying parties hear.
func (l *Logouts) Ending(ctx context.Context, sessions ...storage.Session) {
	if l == nil {
		return
	}
	queued := 0
	uris := map[string]bool{} // client id -> has a back-channel logout URI
	for _, s := range sessions {
		if s.MemberID == "" {
			continue
		}
		sids := append([]storage.CarriedSession{{ID: s.ID, Clients: s.Clients}}, s.Carried...)
		for _, sid := range sids {
			for _, clientID := range sid.Clients {
				has, ok := uris[clientID]
				if !ok {
					c, err := l.store.ClientByID(ctx, clientID)
					has = err == nil && c.BackchannelLogoutURI != ""
					uris[clientID] = has
				}
				if has && l.enqueue(ctx, s.MemberID, sid.ID, clientID) {
					queued++
				}
			}
		}
	}
	if queued > 0 && l.kick != nil {
		l.kick()
	}
}

// EndingSession is Ending for the session with id, read from the store.
func (l *Logouts) EndingSession(ctx context.Context, id string) {
	if l == nil || id == "" {
		return
	}
	s, err := l.store.SessionByID(ctx, id)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			l.log.ErrorContext(ctx, "back-channel logout: reading the session", "error", err)
		}
		return
	}
	l.Ending(ctx, s)
}

// EndingAll is Ending for every session f selects.
func (l *Logouts) EndingAll(ctx context.Context, f storage.SessionFilter) {
	if l == nil || f.MemberID == "" {
		return
	}
	ss, err := l.store.ListSessions(ctx, f)
	if err != nil {
		l.log.ErrorContext(ctx, "back-channel logout: listing the sessions", "member_id", f.MemberID, "error", err)
		return
	}
	l.Ending(ctx, ss...)
}

// enqueue stores the message for session sid of memberID at client
// clientID and reports whether it is new.
func (l *Logouts) enqueue(ctx context.Context, memberID, sid, clientID string) bool {
	body, err := json.Marshal(storage.BackchannelLogout{MemberID: memberID, SessionID: sid})
	if err != nil {
		return false
	}
	now := l.now().UTC()
	m := storage.OutboxMessage{
		ID: LogoutMessageID(sid, clientID), Channel: storage.ChannelBackchannelLogout, To: clientID,
		Text: string(body), Purpose: storage.ChannelBackchannelLogout, State: StatePending,
		NextAttemptAt: now, CreatedAt: now,
	}
	switch err := l.store.EnqueueMessage(ctx, m); {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrAlreadyExists):
		return false
	default:
		l.log.ErrorContext(ctx, "back-channel logout not queued", "member_id", memberID, "client_id", clientID, "error", err)
		return false
	}
}

// LogoutMessageID is the outbox id of the logout of session sid at client
// clientID: the same for the same pair, so that it is queued once.
func LogoutMessageID(sid, clientID string) string {
	h := sha256.Sum256([]byte("backchannel_logout\x00" + sid + "\x00" + clientID))
	return "bcl-" + hex.EncodeToString(h[:16])
}

// ParseLogout reads what a message of ChannelBackchannelLogout holds.
func ParseLogout(m storage.OutboxMessage) (storage.BackchannelLogout, error) {
	var b storage.BackchannelLogout
	if err := json.Unmarshal([]byte(m.Text), &b); err != nil || b.MemberID == "" || b.SessionID == "" {
		return b, Permanent(errors.New("a back-channel logout message without member or session"))
	}
	return b, nil
}
