package provider

import (
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

// ReloadKeys serves a rotation another process made in the shared store:
// the new keys are published and the newest active key of each algorithm
// signs; a store without an active key for an algorithm leaves the ring
// as it was.
func TestReloadKeysServesARotationMadeElsewhere(t *testing.T) {
	p, st := newClientInfoProvider(t)
	p.keys = newKeyRing(st, 2048, time.Now, time.Hour)
	if err := p.keys.load(t.Context()); err != nil {
		t.Fatal(err)
	}
	before, _ := p.keys.signing(AlgRS256)

	// Another process (the CLI, another replica) rotates in the store.
	keys, err := RotateKeys(t.Context(), st, 2048, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := p.keys.signing(AlgRS256); k.id != before.id {
		t.Fatal("the ring changed before a reload")
	}
	if err := p.ReloadKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	var published []string
	for _, k := range p.keys.keySet() {
		published = append(published, k.ID())
	}
	for _, k := range keys {
		if !slices.Contains(published, k.ID) {
			t.Errorf("key %s not published after the reload: %v", k.ID, published)
		}
		if k.RetiredAt.IsZero() {
			if s, _ := p.keys.signing(k.Algorithm); s.id != k.ID {
				t.Errorf("%s signs with %s, want the new %s", k.Algorithm, s.id, k.ID)
			}
		}
	}

	// Half a rotation: the active ES256 key retired, no new one yet.
	for _, k := range keys {
		if k.Algorithm == AlgES256 && k.RetiredAt.IsZero() {
			if err := st.UpdateKey(t.Context(), k.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
				k.RetiredAt, k.ExpiresAt = time.Now(), time.Now().Add(time.Hour)
				return k, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	es, _ := p.keys.signing(AlgES256)
	if err := p.ReloadKeys(t.Context()); err == nil {
		t.Fatal("a store without an active ES256 key was installed")
	}
	if now, err := p.keys.signing(AlgES256); err != nil || now.id != es.id {
		t.Fatalf("the ring lost its ES256 key: %v", err)
	}
}
