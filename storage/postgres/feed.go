package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// feed listens for what other processes change (LISTEN/NOTIFY on
// notifyChannel) and proves, with pings, how fresh what it heard is.
//
// Writes that other processes must see notify in their own transaction,
// so the notification is delivered at commit, or never: a revocation
// ("r…", revocations.go), a member change ("m<id>", the member cache), the end
// of a browser session ("s<id>", the session cache: a trigger sends it), and a
// change of a client or a signing key ("c<id>", "k<id>", changes.go).
//
// PostgreSQL delivers the notifications of different transactions in the
// order the transactions committed. Every ping period (RevocationDelay/2)
// the feed notifies a channel only this process listens to, through the
// pool, with a sequence number, and remembers when it sent it. When the
// ping comes back on the listening connection, every transaction that
// committed before it was sent has been delivered, and handled, before
// it: the ping's send time is the feed's freshness. Caches answer only
// while the freshness is younger than RevocationDelay (fresh); otherwise
// their callers ask the database. So what another process committed is
// seen here within RevocationDelay, whatever happens to the listener.
//
// When the listener's connection fails, it reconnects (with LISTEN first,
// so that nothing committed afterwards is missed), reads every revocation
// again, clears the member and session caches and tells the subscribers of client and
// key changes that anything may have changed; until its next ping comes
// back it is not fresh.
type feed struct {
	s      *Store
	cfg    *pgx.ConnConfig
	ping   string        // this process's ping channel
	period time.Duration // between pings
	bound  time.Duration // Options.RevocationDelay
	base   time.Time     // monotonic origin of freshAt

	freshAt atomic.Int64 // since base, when the last ping back was sent; 0: never

	mu    sync.Mutex
	seq   uint64
	sent  map[uint64]int64 // ping sequence → since base at sending
	first chan struct{}    // closed when the first ping comes back
	once  sync.Once

	cancel context.CancelFunc
	done   chan struct{}
}

// maxOutstandingPings bounds the pings remembered while none comes back.
const maxOutstandingPings = 64

// firstPingWait is how long Open waits for its first ping to come back.
const firstPingWait = 10 * time.Second

func newFeed(s *Store, cfg *pgx.ConnConfig) *feed {
	c := cfg.Copy()
	ping := strings.ToLower(rand.Text())
	// Named apart, so an operator (or a test) can tell the listeners of
	// the replicas from each other in pg_stat_activity.
	c.RuntimeParams["application_name"] = "tsubasa-listener-" + ping[:8]
	// A notification wait is not a statement, and the listener's queries
	// (the revocations read again) may take a while on a big table.
	delete(c.RuntimeParams, "statement_timeout")
	bound := s.opts.RevocationDelay
	return &feed{s: s, cfg: c, ping: "tsubasa_ping_" + ping,
		period: bound / 2, bound: bound, base: time.Now(), sent: map[uint64]int64{}, first: make(chan struct{})}
}

// fresh reports whether every change committed elsewhere more than the
// bound ago has been handled here.
func (f *feed) fresh() bool {
	at := f.freshAt.Load()
	return at > 0 && time.Since(f.base)-time.Duration(at) <= f.bound
}

// start connects the listener and runs it until stop. It fails Open when
// the listener cannot connect, or its first ping does not come back (a
// pooler in transaction mode takes LISTEN and never delivers): such a
// store would answer every revocation check from the database.
func (f *feed) start(ctx context.Context) error {
	conn, err := f.connect(ctx)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go f.run(lctx, conn)
	t := time.NewTimer(firstPingWait)
	defer t.Stop()
	select {
	case <-f.first:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		err = errors.New("postgres: notifications sent to this database do not come back to its listener " +
			"within " + firstPingWait.String() + ": reach PostgreSQL directly or through a pooler in session mode")
	}
	f.stop()
	return err
}

func (f *feed) stop() {
	f.cancel()
	<-f.done
}

// connect opens the listening connection, listens, and reads what it may
// have missed: every revocation, and no member from the cache.
func (f *feed) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, f.cfg)
	if err != nil {
		return nil, wrap("listener", err)
	}
	for _, ch := range []string{notifyChannel, f.ping} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, wrap("listener", err)
		}
	}
	if err := f.s.loadRevocations(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	f.s.members.reset()
	f.s.sessCache.reset()
	f.s.subs.everything()
	return conn, nil
}

// run handles notifications and sends pings until ctx ends, reconnecting
// when the connection fails.
func (f *feed) run(ctx context.Context, conn *pgx.Conn) {
	defer close(f.done)
	retry := f.period
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = f.connect(ctx); err != nil {
				if ctx.Err() == nil {
					f.s.log.Warn("storage listener cannot reconnect; answering from the database meanwhile", "error", err)
				}
				sleep(ctx, retry)
				retry = min(2*retry, 30*time.Second)
				continue
			}
			f.s.log.Info("storage listener reconnected")
			retry = f.period
		}
		if err := f.listen(ctx, conn); err != nil && ctx.Err() == nil {
			f.s.log.Warn("storage listener lost its connection; answering from the database until it is back", "error", err)
		}
		conn.Close(context.Background())
		conn = nil
	}
}

// listen pings every period and handles what arrives, until an error.
func (f *feed) listen(ctx context.Context, conn *pgx.Conn) error {
	next := time.Now()
	for {
		if !time.Now().Before(next) {
			if err := f.sendPing(ctx); err != nil {
				return err
			}
			next = time.Now().Add(f.period)
		}
		wctx, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if err := f.handle(n.Channel, n.Payload); err != nil {
				return err
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Time to ping again.
		default:
			return err
		}
	}
}

// sendPing notifies this process's ping channel through the pool and
// remembers when.
func (f *feed) sendPing(ctx context.Context) error {
	f.mu.Lock()
	f.seq++
	seq := f.seq
	f.sent[seq] = int64(time.Since(f.base))
	delete(f.sent, seq-maxOutstandingPings) // lost: it will not come back
	f.mu.Unlock()
	_, err := f.s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", f.ping, strconv.FormatUint(seq, 10))
	return err
}

// handle applies one notification. An error means the caches may have
// missed a change: the listener reconnects, which reads them again.
func (f *feed) handle(channel, payload string) error {
	if channel == f.ping {
		seq, err := strconv.ParseUint(payload, 10, 64)
		if err != nil {
			return nil
		}
		f.mu.Lock()
		at, ok := f.sent[seq]
		for k := range f.sent {
			if k <= seq {
				delete(f.sent, k) // older pings are superseded
			}
		}
		f.mu.Unlock()
		if ok && at > f.freshAt.Load() {
			f.freshAt.Store(at)
			f.once.Do(func() { close(f.first) })
		}
		return nil
	}
	switch {
	case payload == "C":
		f.s.subs.notify(storage.ChangeClients, "")
	case strings.HasPrefix(payload, "c"):
		f.s.subs.notify(storage.ChangeClients, payload[1:])
	case payload == "K":
		f.s.subs.notify(storage.ChangeKeys, "")
	case strings.HasPrefix(payload, "k"):
		f.s.subs.notify(storage.ChangeKeys, payload[1:])
	case payload == "M":
		f.s.members.reset()
	case strings.HasPrefix(payload, "m"):
		f.s.members.changed(payload[1:])
	case payload == "S":
		f.s.sessCache.reset()
	case strings.HasPrefix(payload, "s"):
		f.s.sessCache.changed(payload[1:])
	case payload == "R":
		return f.s.loadRevocations(context.Background(), f.s.pool)
	case strings.HasPrefix(payload, "r"):
		key, shape, at, ok := parseRevocationPayload(payload)
		if !ok {
			return errors.New("listener: malformed revocation notification")
		}
		f.s.revoked.remember(key, shape, at)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
