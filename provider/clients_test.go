package provider

import (
	"context"
	"crypto/hmac"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// gatedClients is a real store whose ClientByID, once armed, waits for
// release after reading: a lookup caught between its read and its caching.
type gatedClients struct {
	storage.Clients
	armed   chan struct{} // closed when a gated read has read
	release chan struct{}
	once    sync.Once
	on      bool
}

func (g *gatedClients) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	c, err := g.Clients.ClientByID(ctx, id)
	if g.on {
		g.once.Do(func() { close(g.armed) })
		<-g.release
	}
	return c, err
}

func newRegistry(t *testing.T, st storage.Clients, now func() time.Time) *ClientRegistry {
	t.Helper()
	static := []storage.Client{{ID: "from-file", SecretHash: []byte("hash")}}
	r, err := NewClientRegistry(static, st, []byte("registry-hmac-key-0123456789abcdef"), now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openBolt(t *testing.T) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestClientRegistryChangesTakeEffectAtOnce: within the cache's lifetime,
// a client created, given a new secret or removed through the registry is
// seen as it now is on the next lookup.
func TestClientRegistryChangesTakeEffectAtOnce(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	r := newRegistry(t, openBolt(t), clk.now)
	ctx := t.Context()
	if _, err := r.get(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("before creation: %v", err)
	}
	first, err := r.Create(ctx, storage.Client{ID: "shop", GrantTypes: []string{GrantClientCredentials}})
	if err != nil || first == "" {
		t.Fatalf("Create: %q, %v", first, err)
	}
	c, err := r.get(ctx, "shop") // now cached
	if err != nil || !hmac.Equal(c.SecretHash, HashSecret(r.hmacKey, first)) {
		t.Fatalf("after creation: %v", err)
	}
	_, second, err := r.RotateSecret(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r.get(ctx, "shop"); err != nil || !hmac.Equal(c.SecretHash, HashSecret(r.hmacKey, second)) ||
		hmac.Equal(c.SecretHash, HashSecret(r.hmacKey, first)) {
		t.Errorf("right after the rotation the cached hash is served: %v", err)
	}
	if _, err := r.Remove(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.get(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("right after the removal: %v, want ErrNotFound", err)
	}

	if _, err := r.Create(ctx, storage.Client{ID: "from-file"}); !errors.Is(err, ErrStaticClient) {
		t.Errorf("Create over a config client: %v", err)
	}
	if _, err := r.Remove(ctx, "from-file"); !errors.Is(err, ErrStaticClient) {
		t.Errorf("Remove of a config client: %v", err)
	}
	if _, _, err := r.RotateSecret(ctx, "from-file"); !errors.Is(err, ErrStaticClient) {
		t.Errorf("RotateSecret of a config client: %v", err)
	}
	if secret, err := r.Create(ctx, storage.Client{ID: "app", Public: true, SecretHash: []byte("x")}); err != nil || secret != "" {
		t.Fatalf("public client: %q, %v", secret, err)
	}
	if c, _ := r.get(ctx, "app"); c.SecretHash != nil {
		t.Error("a public client was stored with a secret hash")
	}
	if _, _, err := r.RotateSecret(ctx, "app"); !errors.Is(err, ErrPublicClient) {
		t.Errorf("RotateSecret of a public client: %v", err)
	}
	if _, _, err := r.RotateSecret(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RotateSecret of an unknown client: %v", err)
	}
}

// TestClientRegistryStaleForAtMostTheTTL: on a store that cannot tell of
// changes (storage.ChangeNotifier), a change made behind the registry's
// back is seen once the cached entry is older than clientCacheTTL, the
// bound the package doc states.
func TestClientRegistryStaleForAtMostTheTTL(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st := openBolt(t)
	r := newRegistry(t, struct{ storage.Clients }{st}, clk.now) // no notifications
	ctx := t.Context()
	if err := st.CreateClient(ctx, storage.Client{ID: "shop", Name: "old"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.get(ctx, "shop"); c.Name != "old" {
		t.Fatalf("first lookup: %q", c.Name)
	}
	if err := st.UpdateClient(ctx, "shop", func(c storage.Client) (storage.Client, error) { c.Name = "new"; return c, nil }); err != nil {
		t.Fatal(err)
	}
	clk.add(clientCacheTTL - time.Millisecond)
	if c, _ := r.get(ctx, "shop"); c.Name != "old" {
		t.Fatalf("within the TTL the cache answers (%q): the TTL no longer bounds anything here", c.Name)
	}
	clk.add(time.Millisecond)
	if c, _ := r.get(ctx, "shop"); c.Name != "new" {
		t.Errorf("a change behind the registry is still unseen after the TTL: %q", c.Name)
	}
}

// TestClientRegistryHearsChangesMadeElsewhere: a change made behind the
// registry's back (another process on the store: a replica, the command
// line) reaches it through the store's notifications, and the next lookup
// sees it, within the cache's lifetime.
func TestClientRegistryHearsChangesMadeElsewhere(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st := openBolt(t)
	r := newRegistry(t, st, clk.now)
	ctx := t.Context()
	if err := st.CreateClient(ctx, storage.Client{ID: "shop", Name: "old", SecretHash: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.get(ctx, "shop"); c.Name != "old" {
		t.Fatalf("first lookup: %q", c.Name)
	}
	if err := st.UpdateClient(ctx, "shop", func(c storage.Client) (storage.Client, error) {
		c.Name, c.SecretHash = "new", []byte("rotated")
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.get(ctx, "shop"); c.Name != "new" || string(c.SecretHash) != "rotated" {
		t.Errorf("after a rotation elsewhere the cache answered %q", c.Name)
	}
	if _, err := st.DeleteClient(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.get(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after a removal elsewhere: %v, want ErrNotFound", err)
	}
}

// unvouched is a store whose notifications cannot be trusted to be
// complete (a PostgreSQL listener that lost its connection): it delivers
// none, and ChangesCurrent says so.
type unvouched struct{ *bolt.Store }

func (unvouched) OnChange(string, func(string)) func() { return func() {} }
func (unvouched) ChangesCurrent() bool                 { return false }

// TestClientRegistryReadsTheStoreWhileNotCurrent: while the store cannot
// vouch for its notifications, the registry answers from the store, not
// its cache.
func TestClientRegistryReadsTheStoreWhileNotCurrent(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st := openBolt(t)
	r := newRegistry(t, unvouched{st}, clk.now)
	ctx := t.Context()
	if err := st.CreateClient(ctx, storage.Client{ID: "shop", Name: "old"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.get(ctx, "shop"); c.Name != "old" {
		t.Fatalf("first lookup: %q", c.Name)
	}
	if _, err := st.DeleteClient(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.get(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a removal unheard, the cache answered: %v", err)
	}
}

// TestClientRegistryInFlightLookupDoesNotBringARemovedClientBack: a lookup
// that read the client just before its removal answers with what it read,
// but must not cache it, or the removed client would live on for the TTL.
func TestClientRegistryInFlightLookupDoesNotBringARemovedClientBack(t *testing.T) {
	st := openBolt(t)
	g := &gatedClients{Clients: st, armed: make(chan struct{}), release: make(chan struct{})}
	r := newRegistry(t, g, time.Now)
	ctx := t.Context()
	if _, err := r.Create(ctx, storage.Client{ID: "shop", GrantTypes: []string{GrantClientCredentials}}); err != nil {
		t.Fatal(err)
	}
	g.on = true
	done := make(chan error, 1)
	go func() {
		_, err := r.get(ctx, "shop")
		done <- err
	}()
	<-g.armed // the lookup has read the client
	g.on = false
	if _, err := r.Remove(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatalf("in-flight lookup: %v", err)
	}
	if _, err := r.get(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after the removal, the in-flight lookup's copy is served: %v", err)
	}
}

// TestAccessTokenOfRemovedClientRefused: a token minted after its client's
// removal (by a replica that had not yet seen it, so no recorded
// revocation covers it) is refused once this process knows the client is
// gone.
func TestAccessTokenOfRemovedClientRefused(t *testing.T) {
	e := newServiceEnv(t)
	ctx := t.Context()
	if _, err := e.p.Clients().Create(ctx, storage.Client{ID: "partner", GrantTypes: []string{GrantClientCredentials}}); err != nil {
		t.Fatal(err)
	}
	mint := func(at time.Time) string {
		return e.bearer(t, storage.Token{ID: "t-" + at.Format(time.RFC3339Nano), Kind: storage.AccessToken,
			ClientID: "partner", Subject: "partner", CreatedAt: at, ExpiresAt: at.Add(time.Minute)})
	}
	if _, err := e.p.AccessToken(ctx, mint(time.Now().UTC()), ""); err != nil {
		t.Fatalf("a token of a live client: %v", err)
	}
	if _, err := e.p.Clients().Remove(ctx, "partner"); err != nil {
		t.Fatal(err)
	}
	// Minted after the recorded revocation, which therefore does not cover it.
	if _, err := e.p.AccessToken(ctx, mint(time.Now().UTC().Add(time.Second)), ""); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a token minted after its client's removal: %v, want ErrInvalidToken", err)
	}
}
