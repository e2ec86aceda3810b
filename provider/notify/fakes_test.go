package notify

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	"tsubasa/storage/storagetest"
)

// memStore is a tiny OutboxStore (the real ones run the same worker in
// outbox_replicas_test.go). It runs every update function twice and
// fails the test if the results differ, which is how it checks that the
// worker's update is pure as the storage contract demands.
type memStore struct {
	t       *testing.T
	mu      sync.Mutex
	msgs    map[string]OutboxMessage
	dueErr  error
	dueCall int
}

func newMemStore(t *testing.T) *memStore {
	return &memStore{t: t, msgs: map[string]OutboxMessage{}}
}

func (s *memStore) add(m OutboxMessage) OutboxMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[m.ID] = m
	return m
}

func (s *memStore) get(id string) OutboxMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgs[id]
}

func (s *memStore) ClaimDueMessages(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]OutboxMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dueCall++
	if s.dueErr != nil {
		return nil, s.dueErr
	}
	var due []OutboxMessage
	for _, m := range s.msgs {
		if m.State == StatePending && !m.NextAttemptAt.After(now) {
			due = append(due, m)
		}
	}
	slices.SortFunc(due, func(a, b OutboxMessage) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	if len(due) > limit {
		due = due[:limit]
	}
	for i := range due {
		due[i].NextAttemptAt = leaseUntil
		s.msgs[due[i].ID] = due[i]
	}
	return due, nil
}

func (s *memStore) UpdateOutboxMessage(ctx context.Context, id string, fn func(OutboxMessage) (OutboxMessage, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.msgs[id]
	first, err := fn(old)
	if err != nil {
		return err
	}
	second, err := fn(old)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(first, second) {
		s.t.Errorf("update function is not pure: %+v vs %+v", first, second)
	}
	s.msgs[id] = second
	return nil
}

func newFakeClock() *storagetest.Clock {
	return storagetest.NewClock(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
}

// scriptMailer fails with the scripted errors in turn, then succeeds. With
// block set it waits for ctx instead, like a server that never answers.
type scriptMailer struct {
	mu    sync.Mutex
	errs  []error
	calls int
	sent  []Message
	block bool
}

func (m *scriptMailer) Send(ctx context.Context, msg Message) error {
	m.mu.Lock()
	m.calls++
	block := m.block
	var err error
	if len(m.errs) > 0 {
		err, m.errs = m.errs[0], m.errs[1:]
	}
	m.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.sent = append(m.sent, msg)
	m.mu.Unlock()
	return nil
}

func (m *scriptMailer) callCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// SendSMS lets one fake stand in for both channels.
func (m *scriptMailer) SendSMS(ctx context.Context, s SMS) error {
	return m.Send(ctx, Message{To: s.To, Text: s.Body, Purpose: s.Purpose, Locale: s.Locale})
}
