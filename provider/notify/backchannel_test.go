package notify

import (
	"context"
	"errors"
	"slices"
	"testing"

	"tsubasa/storage"
)

// logoutStore is a LogoutStore over maps, holding what EnqueueMessage
// stored and refusing a duplicate id as every backend does.
type logoutStore struct {
	clients  map[string]storage.Client
	sessions map[string]storage.Session
	queued   []storage.OutboxMessage
}

func (s *logoutStore) ClientByID(_ context.Context, id string) (storage.Client, error) {
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return storage.Client{}, storage.ErrNotFound
}

func (s *logoutStore) SessionByID(_ context.Context, id string) (storage.Session, error) {
	if x, ok := s.sessions[id]; ok {
		return x, nil
	}
	return storage.Session{}, storage.ErrNotFound
}

func (s *logoutStore) ListSessions(_ context.Context, f storage.SessionFilter) ([]storage.Session, error) {
	var out []storage.Session
	for _, x := range s.sessions {
		if x.MemberID == f.MemberID {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *logoutStore) EnqueueMessage(_ context.Context, m storage.OutboxMessage) error {
	if slices.ContainsFunc(s.queued, func(q storage.OutboxMessage) bool { return q.ID == m.ID }) {
		return storage.ErrAlreadyExists
	}
	s.queued = append(s.queued, m)
	return nil
}

// A session's end queues one message per client it gave a code to that
// takes back-channel logouts, none for the others, and none twice.
func TestLogoutsQueueOncePerSessionAndClient(t *testing.T) {
	store := &logoutStore{
		clients: map[string]storage.Client{
			"bcl-app": {ID: "bcl-app", BackchannelLogoutURI: "https://rp.example/bcl"},
			"plain":   {ID: "plain"},
		},
		sessions: map[string]storage.Session{
			"s1":   {ID: "s1", MemberID: "m1", Clients: []string{"bcl-app", "plain", "gone"}},
			"s2":   {ID: "s2", MemberID: "m1"},
			"anon": {ID: "anon", Clients: []string{"bcl-app"}},
		},
	}
	kicks := 0
	l := NewLogouts(store, nil, func() { kicks++ }, nil)
	l.EndingAll(t.Context(), storage.SessionFilter{MemberID: "m1"})
	l.EndingSession(t.Context(), "s1")
	l.Ending(t.Context(), store.sessions["anon"])
	if len(store.queued) != 1 || kicks != 1 {
		t.Fatalf("queued %+v after %d kicks; want one message, one kick", store.queued, kicks)
	}
	m := store.queued[0]
	if m.ID != LogoutMessageID("s1", "bcl-app") || m.To != "bcl-app" || m.Channel != storage.ChannelBackchannelLogout || m.State != StatePending {
		t.Fatalf("message %+v", m)
	}
	got, err := ParseLogout(m)
	if err != nil || got != (storage.BackchannelLogout{MemberID: "m1", SessionID: "s1"}) {
		t.Fatalf("ParseLogout = %+v, %v", got, err)
	}
	if _, err := ParseLogout(storage.OutboxMessage{Text: `{"sid":"s1"}`}); !errors.Is(err, ErrPermanent) {
		t.Fatalf("a message without a member parsed: %v", err)
	}
	var none *Logouts
	none.Ending(t.Context(), store.sessions["s1"]) // a nil Logouts does nothing
}
