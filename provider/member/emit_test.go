package member

import (
	"context"
	"sync"
	"testing"

	"tsubasa/storage"
)

// TestEmitSeesStoredEvents: Options.Emit receives each event once it is
// stored (for the SIEM line), in order, the same event the log holds.
func TestEmitSeesStoredEvents(t *testing.T) {
	var mu sync.Mutex
	var emitted []storage.Event
	f := newFixture(t, func(o *Options) {
		o.Emit = func(_ context.Context, e storage.Event) {
			mu.Lock()
			defer mu.Unlock()
			emitted = append(emitted, e)
		}
	})
	m := f.create(t, "1234567")
	_, _ = f.login(t.Context(), "1234567", "wrong-Pass-1")
	if _, err := f.login(t.Context(), "1234567", goodPassword); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var types []string
	for _, e := range emitted {
		types = append(types, e.Type)
	}
	want := []string{EventMemberCreated, EventLoginFailed, EventPasswordVerified}
	if len(types) != len(want) {
		t.Fatalf("emitted %v, want %v", types, want)
	}
	stored := map[string]string{}
	for _, e := range f.events(t, m.ID) {
		stored[e.ID] = e.Type
	}
	for i, typ := range want {
		if types[i] != typ || stored[emitted[i].ID] != typ {
			t.Errorf("emitted[%d] = %s %s, want %s as stored", i, types[i], emitted[i].ID, typ)
		}
	}
}
