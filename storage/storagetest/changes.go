package storagetest

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
)

// changeWait bounds the wait for a notification: a backend shared by
// several processes delivers them from its listener, not before the write
// returns. A bound on a liveness wait, not a timing assertion.
const changeWait = 30 * time.Second

// heard subscribes to kind and returns the channel of the ids heard.
func heard(t *testing.T, s storage.Store, kind string) <-chan string {
	t.Helper()
	ch := make(chan string, 100)
	stop := s.OnChange(kind, func(id string) {
		select {
		case ch <- id:
		default: // a test that stopped reading
		}
	})
	t.Cleanup(stop)
	return ch
}

// hear waits for id among what ch delivers, skipping "" (anything may have
// changed: a reconnected listener), and fails when another id comes first.
func hear(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	timeout := time.After(changeWait)
	for {
		select {
		case id := <-ch:
			if id == "" {
				continue
			}
			if id != want {
				t.Fatalf("heard a change of %q, want %q", id, want)
			}
			return
		case <-timeout:
			t.Fatalf("no change of %q heard within %s", want, changeWait)
		}
	}
}

var changeTests = []test{
	{"OnChange/creating, updating and deleting a client is heard, by id, in that order", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ch := heard(t, s, storage.ChangeClients)
		ok(t, s.CreateClient(ctx, client("web")))
		hear(t, ch, "web")
		ok(t, s.UpdateClient(ctx, "web", func(c storage.Client) (storage.Client, error) {
			c.SecretHash = []byte("rotated")
			return c, nil
		}))
		hear(t, ch, "web")
		ok(t, s.CreateClient(ctx, client("shop")))
		hear(t, ch, "shop")
		must(s.DeleteClient(ctx, "web"))(t)
		hear(t, ch, "web")
	}},
	{"OnChange/changes of signing keys reach the keys' subscribers, not the clients'", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		clients, keys := heard(t, s, storage.ChangeClients), heard(t, s, storage.ChangeKeys)
		ok(t, s.CreateKey(ctx, signingKey("k1", at(0))))
		hear(t, keys, "k1")
		ok(t, s.UpdateKey(ctx, "k1", func(k storage.SigningKey) (storage.SigningKey, error) {
			k.RetiredAt = at(time.Hour)
			return k, nil
		}))
		hear(t, keys, "k1")
		ok(t, s.DeleteKey(ctx, "k1"))
		hear(t, keys, "k1")
		// A client change after them: the first id the clients'
		// subscriber hears is the client's.
		ok(t, s.CreateClient(ctx, client("web")))
		hear(t, clients, "web")
	}},
	{"OnChange/stop ends a subscription and leaves the others", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		stopped := make(chan string, 10)
		stop := s.OnChange(storage.ChangeClients, func(id string) {
			if id != "" {
				stopped <- id
			}
		})
		stop()
		ch := heard(t, s, storage.ChangeClients)
		ok(t, s.CreateClient(ctx, client("web")))
		hear(t, ch, "web") // delivered to every subscriber at once
		select {
		case id := <-stopped:
			t.Fatalf("a stopped subscription heard %q", id)
		default:
		}
	}},
	{"ChangesCurrent/holds on an open store", func(t *testing.T, s storage.Store) {
		// A shared backend proves it by a round trip of its own
		// notifications: wait for one, within the liveness bound.
		deadline := time.Now().Add(changeWait)
		for !s.ChangesCurrent() {
			if time.Now().After(deadline) {
				t.Fatalf("ChangesCurrent still false after %s", changeWait)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}},
}

// limitExpiryTests are the janitor's cases for what storage/limits.go
// keeps: expired throttles and claims and lapsed counts go, live ones stay.
var limitExpiryTests = []test{
	{"DeleteExpired/removes expired throttles and claims and lapsed counts of attempts, and counts them", func(t *testing.T, s storage.Store) {
		ctx, now := t.Context(), at(time.Hour)
		for _, k := range []string{"dead-1", "dead-2", "live"} {
			ok(t, s.UpdateThrottles(ctx, at(0), []string{k}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
				ts[0].Count, ts[0].ExpiresAt = 1, now
				if k == "live" {
					ts[0].ExpiresAt = now.Add(time.Nanosecond)
				}
				return ts, nil
			}))
		}
		ok(t, s.ClaimOnce(ctx, "dead-claim", at(0), now))
		ok(t, s.ClaimOnce(ctx, "live-claim", at(0), now.Add(time.Minute)))
		m := member(1)
		ok(t, s.CreateMember(ctx, m))
		must(s.EnterLogin(ctx, m.ID, "", at(0), now))(t) // never left: lapses at now
		equal(t, must(s.DeleteExpired(ctx, now))(t), 4)
		equal(t, must(s.DeleteExpired(ctx, now))(t), 0)
		equal(t, countOf(t, s, "live", now), 1)
		isErr(t, s.ClaimOnce(ctx, "live-claim", now, now.Add(time.Hour)), storage.ErrConsumed)
		ok(t, s.ClaimOnce(ctx, "dead-claim", now, now.Add(time.Hour)))
		equal(t, enter(t, s, m.ID, "").InFlight, 1)
	}},
}

func isConsumed(err error) bool { return errors.Is(err, storage.ErrConsumed) }
