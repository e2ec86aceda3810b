package app

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"tsubasa/provider"
	"tsubasa/provider/audit"
	"tsubasa/provider/notify"
	"tsubasa/provider/webhook"
	"tsubasa/storage"
)

// Webhook deliveries are wired here. Storage queues one outbox message
// per subscription in the commit that stores an event (storage.
// WebhookMessages); the outbox worker delivers it with this deliverer,
// which reads the subscription's URL and signs at each try
// (provider/webhook) through the SSRF-safe client.

// webhookDeliverer is the outbox worker's deliverer of webhooks.
func (d *Deps) webhookDeliverer(p *provider.Provider) notify.Deliverer {
	sender := webhook.NewSender(outboundClient(d.Config), deriveKey(d.HMACKey, "webhook-secret"), nil)
	streams := d.ssfSender(p)
	return func(ctx context.Context, m notify.OutboxMessage) error {
		sub, err := d.Store.WebhookByID(ctx, m.To)
		if errors.Is(err, storage.ErrNotFound) {
			// Removed since the event: nobody is left to tell.
			return notify.Permanent(errors.New("webhook: the subscription is gone"))
		}
		if err != nil {
			return err
		}
		b, err := storage.ParseWebhookBody(m)
		if err != nil {
			return notify.Permanent(err)
		}
		if sub.SSF != nil { // a Shared Signals stream: a SET (wire_ssf.go)
			return streams(ctx, sub, b)
		}
		err = sender.Send(ctx, sub.ID, sub.URL, b.ID, []byte(m.Text))
		if errors.Is(err, webhook.ErrUndeliverable) {
			return notify.Permanent(err)
		}
		return err
	}
}

// webhookDeadLetter records a webhook delivery the outbox gave up on, as
// the member's audit event (the type is not one a subscription can ask
// for, so it queues no delivery of its own).
func webhookDeadLetter(ctx context.Context, al *audit.Logger, m notify.OutboxMessage) {
	b, _ := storage.ParseWebhookBody(m)
	_ = al.Record(ctx, storage.Event{
		Type: audit.EventWebhookFailed, MemberID: b.Data.MemberID, Success: false, Reason: "undelivered",
		Detail: map[string]string{"webhook_id": m.To, "event_id": b.ID, "event_type": b.Type,
			"attempts": strconv.Itoa(m.Attempts)},
	})
}

// webhookKicks wakes the outbox worker once an event that a subscription
// asks for is committed, so a delivery leaves within moments rather than
// at the worker's next round. Which types are asked for is cached for
// kickCacheFor: the cache only decides how soon the worker looks, never
// whether a delivery is made (storage queues it in the event's commit,
// and the worker finds it at its next round in any case), so a stale
// cache on any replica costs at most one round of delay.
type webhookKicks struct {
	storage.Store
	kick func()

	mu     sync.Mutex
	types  map[string]bool
	readAt time.Time
}

const kickCacheFor = 5 * time.Second

// withWebhookKicks wraps st in webhookKicks, keeping the optional
// capabilities others look for on the store: bolt's online backup
// (provider/admin), PostgreSQL's ping (storeReady) and its reads past the
// caches (storage.Fresh: the code exchange's check of a logout or a
// credential change another replica made; without it a replica that has
// not heard of a logout yet would mint tokens from the ended session's
// code). TestWebhookKicksKeepTheStoresCapabilities checks each.
func withWebhookKicks(st storage.Store, kick func()) storage.Store {
	k := &webhookKicks{Store: st, kick: kick}
	switch c := st.(type) {
	case pgCaps:
		return kicksWithPG{k, c}
	case boltCaps:
		return kicksWithBolt{k, c}
	case backupper:
		return kicksWithBackup{k, c}
	case pinger:
		return kicksWithPing{k, c}
	}
	return k
}

// The optional capabilities the provider looks for on the store, beside
// backup and ping: storage.Fresh (the code exchange's revocation and stamp
// reads from the database, provider/fresh.go; storage.FreshPair, both in
// one round trip; storage.FreshCode, both with the code's own read),
// storage.CachedSessions (the SSO answer's session from memory) and
// storage.ChangeNotifier
// (the client cache and key ring, which answer from memory only while
// the store reports changes current). A wrapper that hid them would leave
// the code exchange deciding from a replica's stale caches and the
// client cache trusting its TTL alone.
type (
	pgCaps interface {
		pinger
		storage.Fresh
		storage.FreshPair
		storage.FreshCode
		storage.ChangeNotifier
		storage.CachedSessions
	}
	boltCaps interface {
		backupper
		storage.ChangeNotifier
	}
	kicksWithPG struct {
		*webhookKicks
		pgCaps
	}
	kicksWithBolt struct {
		*webhookKicks
		boltCaps
	}
)

type backupper interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

type kicksWithBackup struct {
	*webhookKicks
	b backupper
}

func (s kicksWithBackup) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return s.b.Backup(ctx, w)
}

type kicksWithPing struct {
	*webhookKicks
	p pinger
}

func (s kicksWithPing) Ping(ctx context.Context) error { return s.p.Ping(ctx) }

func (s *webhookKicks) after(ctx context.Context, err error, evs ...storage.Event) {
	if err != nil || !s.wanted(ctx, evs) {
		return
	}
	storage.AfterCommit(ctx, s.kick)
}

func (s *webhookKicks) wanted(ctx context.Context, evs []storage.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); now.Sub(s.readAt) > kickCacheFor {
		subs, err := s.Store.ListWebhooks(ctx)
		if err != nil {
			return true // a kick too many costs one round
		}
		s.types, s.readAt = map[string]bool{}, now
		for _, w := range subs {
			for _, t := range w.Events {
				s.types[t] = true
			}
		}
	}
	for _, e := range evs {
		if s.types[e.Type] {
			return true
		}
	}
	return false
}

func (s *webhookKicks) AppendEvent(ctx context.Context, e storage.Event) error {
	err := s.Store.AppendEvent(ctx, e)
	s.after(ctx, err, e)
	return err
}

func (s *webhookKicks) RecordLogin(ctx context.Context, rec storage.LoginRecord) error {
	err := s.Store.RecordLogin(ctx, rec)
	s.after(ctx, err, rec.Event)
	return err
}

func (s *webhookKicks) UpdateMemberWithEvents(ctx context.Context, id string, fn func(storage.Member) (storage.Member, error), evs ...storage.Event) error {
	err := s.Store.UpdateMemberWithEvents(ctx, id, fn, evs...)
	s.after(ctx, err, evs...)
	return err
}

func (s *webhookKicks) ChangeCredentials(ctx context.Context, memberID string, fn func(storage.Member) (storage.Member, error), events func(storage.EndedGrants) []storage.Event) (storage.EndedGrants, error) {
	var evs []storage.Event
	ended, err := s.Store.ChangeCredentials(ctx, memberID, fn, func(g storage.EndedGrants) []storage.Event {
		evs = events(g) // the last run's are the committed ones
		return evs
	})
	s.after(ctx, err, evs...)
	return ended, err
}
