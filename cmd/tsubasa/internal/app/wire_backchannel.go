package app

import (
	"context"
	"errors"
	"strconv"

	"tsubasa/provider"
	"tsubasa/provider/audit"
	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0) is wired
// here: notify.Logouts queues a message per session and client wherever
// sessions end (the login UI, the admin operations, and member's
// credential changes through its hooks, before and after the commit),
// and the outbox worker delivers it with the provider, which signs the
// logout token when it is sent.

// logoutClients finds a client for notify.Logouts: the config file's
// first, then the database's, as the provider does.
type logoutClients struct {
	storage.Store
	static map[string]storage.Client
}

func (l logoutClients) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	if c, ok := l.static[id]; ok {
		return c, nil
	}
	return l.Store.ClientByID(ctx, id)
}

// newLogouts builds d's Logouts; kick wakes the outbox worker once the
// server has one (never in the CLI: the server's worker finds the
// messages at its next round).
func (d *Deps) newLogouts() *notify.Logouts {
	static := map[string]storage.Client{}
	for _, c := range staticClients(d.Config, d.HMACKey) {
		static[c.ID] = c
	}
	return notify.NewLogouts(logoutClients{Store: d.Store, static: static}, nil, func() {
		if k := d.kick.Load(); k != nil {
			(*k)()
		}
	}, d.Log)
}

// logoutHooks are member's hooks that queue the back-channel logouts of a
// credential change: every session of the member before the commit (a
// crash loses none), and what the commit ended after it (a session
// created in between; what is queued already is not queued again).
func logoutHooks(o *member.Options, l *notify.Logouts) {
	o.SessionsEnding = func(ctx context.Context, memberID string) {
		l.EndingAll(ctx, storage.SessionFilter{MemberID: memberID})
	}
	o.SessionsEnded = func(ctx context.Context, memberID string, ended []member.EndedSession) {
		ss := make([]storage.Session, len(ended))
		for i, e := range ended {
			ss[i] = storage.Session{ID: e.ID, MemberID: memberID, Clients: e.ClientIDs}
		}
		l.Ending(ctx, ss...)
	}
}

// backchannelDeliverer is the outbox worker's deliverer of logout tokens.
func backchannelDeliverer(p *provider.Provider) notify.Deliverer {
	return func(ctx context.Context, m notify.OutboxMessage) error {
		if p == nil {
			// A CLI process sends support codes but signs no logout
			// tokens: the server's worker delivers the message later.
			return errors.New("back-channel logout: no provider in this process")
		}
		b, err := notify.ParseLogout(m)
		if err != nil {
			return err
		}
		err = p.SendBackchannelLogout(ctx, m.To, b.MemberID, b.SessionID)
		if errors.Is(err, provider.ErrLogoutUndeliverable) {
			return notify.Permanent(err)
		}
		return err
	}
}

// deadLetter records an outbox message that failed for good: an audit
// event (for a logout token: the member's, naming the client and the
// session) and the dead-letter metric.
func deadLetter(al *audit.Logger, count func(string)) func(context.Context, notify.OutboxMessage) {
	return func(ctx context.Context, m notify.OutboxMessage) {
		count(m.Channel)
		if m.Channel == storage.ChannelWebhook {
			webhookDeadLetter(ctx, al, m)
			return
		}
		if m.Channel != storage.ChannelBackchannelLogout {
			return
		}
		b, _ := notify.ParseLogout(m)
		_ = al.Record(ctx, storage.Event{
			Type: audit.EventBackchannelLogoutFailed, MemberID: b.MemberID, ClientID: m.To, Success: false,
			Reason: "undelivered", Detail: map[string]string{"attempts": strconv.Itoa(m.Attempts)},
		})
	}
}
