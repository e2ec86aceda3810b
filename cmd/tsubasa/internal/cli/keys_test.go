package cli

import (
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider/admin/adminapi"
)

func TestCLIKeys(t *testing.T) {
	t.Parallel()
	bothModes(t, func(t *testing.T, e *cliEnv, _ func(func(d *app.Deps))) {
		var keys []adminapi.KeyView
		e.okJSON(&keys, "keys", "rotate")
		// One key per algorithm: RS256, ES256 and PS256 (an RSA key of its own).
		if got := keyStatuses(keys); len(keys) != 3 || strings.Count(got, "/active") != 3 ||
			!strings.Contains(got, "RS256/") || !strings.Contains(got, "ES256/") || !strings.Contains(got, "PS256/") {
			t.Errorf("after one rotation: %s", got)
		}
		// The second rotation publishes new keys that sign two minutes
		// later; until then the first ones sign, retiring at that moment.
		e.okJSON(&keys, "keys", "rotate")
		active, pending := 0, 0
		for _, k := range keys {
			switch k.Status {
			case "active":
				active++
				if k.RetiredAt.IsZero() || !k.ExpiresAt.After(k.RetiredAt) {
					t.Errorf("handing-over key %s: retires %v, expires %v", k.ID, k.RetiredAt, k.ExpiresAt)
				}
			case "pending":
				pending++
				if !k.RetiredAt.IsZero() {
					t.Errorf("new key %s retires at %v", k.ID, k.RetiredAt)
				}
			}
		}
		if active != 3 || pending != 3 {
			t.Errorf("after two rotations: %s", keyStatuses(keys))
		}
		out := e.ok("keys", "list")
		for _, k := range keys {
			if !strings.Contains(out, k.ID) {
				t.Errorf("keys list lacks %s:\n%s", k.ID, out)
			}
		}
		jsonOut := e.ok("keys", "list", "--json")
		if strings.Contains(strings.ToLower(jsonOut+out), "private") || strings.Contains(jsonOut, "MII") {
			t.Errorf("keys list shows private material:\n%s", jsonOut)
		}
	})
}

// TestCLIKeysRotateThroughServer checks that a rotation through the socket
// uses the server's rotate function, so the running provider re-reads its keys.
func TestCLIKeysRotateThroughServer(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	_, _, rotations := e.startServer()
	e.ok("keys", "rotate")
	if n := rotations.Load(); n != 1 {
		t.Errorf("server rotate function called %d times, want 1", n)
	}
}

func keyStatuses(keys []adminapi.KeyView) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Algorithm + "/" + k.Status
	}
	return strings.Join(parts, " ")
}
