package notify

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
	"tsubasa/storage/storagetest"
)

// The cluster of the PostgreSQL tests is started on first use only.
func TestMain(m *testing.M) { pgtest.Main(m) }

// tally counts the sends of each recipient: each message has its own.
type tally struct {
	mu   sync.Mutex
	sent map[string]int
}

func (c *tally) Send(_ context.Context, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[m.To]++
	return nil
}

func (c *tally) SendSMS(ctx context.Context, s SMS) error { return c.Send(ctx, Message{To: s.To}) }

func (c *tally) once(t *testing.T, n int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range n {
		if got := c.sent[recipient(i)]; got != 1 {
			t.Errorf("message %d sent %d times, want once", i, got)
		}
	}
}

func recipient(i int) string { return fmt.Sprintf("member%02d@example.com", i) }

// enqueue stores n pending messages, due at now.
func enqueue(t *testing.T, st storage.Outbox, n int, now time.Time) {
	t.Helper()
	for i := range n {
		if err := st.EnqueueMessage(t.Context(), NewMailRecord(Message{To: recipient(i), Subject: "s", Text: "t"}, now)); err != nil {
			t.Fatal(err)
		}
	}
}

// drain runs the workers at once, each RunOnce in a loop, until none of
// them finds anything left to try.
func drain(t *testing.T, workers []*OutboxWorker) {
	t.Helper()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for {
				n, err := w.RunOnce(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
}

func worker(st OutboxStore, sender *tally, clock *storagetest.Clock) *OutboxWorker {
	return NewOutboxWorker(st, sender, sender, WorkerOptions{BatchSize: 3, Now: clock.Now})
}

// Two workers on one bolt store (one process, as a worker restarted next
// to one that has not stopped yet) send each message once.
func TestTwoWorkersOnBoltSendEachOnce(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	clock, sender := newFakeClock(), &tally{sent: map[string]int{}}
	enqueue(t, st, 40, clock.Now())
	drain(t, []*OutboxWorker{worker(st, sender, clock), worker(st, sender, clock)})
	sender.once(t, 40)
}

// Workers on two replicas (two pools on one PostgreSQL database) send each
// message once.
func TestWorkersOnTwoReplicasSendEachOnce(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	a, b := openPG(t, url), openPG(t, url)
	clock, sender := newFakeClock(), &tally{sent: map[string]int{}}
	enqueue(t, a, 40, clock.Now())
	drain(t, []*OutboxWorker{worker(a, sender, clock), worker(b, sender, clock), worker(b, sender, clock)})
	sender.once(t, 40)
}

// A replica that claimed messages and died before sending them holds them
// until its lease ends; then another replica sends each of them, once.
func TestMessagesOfADeadReplicaAreSentOnce(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	dead, live := openPG(t, url), openPG(t, url)
	clock, sender := newFakeClock(), &tally{sent: map[string]int{}}
	enqueue(t, live, 5, clock.Now())
	w := worker(live, sender, clock)
	// The dead replica's worker claimed them all, as RunOnce would, and
	// stopped.
	claimed, err := dead.ClaimDueMessages(t.Context(), clock.Now(), 10, clock.Now().Add(w.lease()))
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if n, err := w.RunOnce(t.Context()); err != nil || n != 0 {
		t.Fatalf("during the lease the live replica tried %d (%v), want none", n, err)
	}
	clock.Advance(w.lease())
	drain(t, []*OutboxWorker{w})
	sender.once(t, 5)
}

func openPG(t *testing.T, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Options{URL: url, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
