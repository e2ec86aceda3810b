package cli

import (
	"errors"
	"strings"
	"testing"
)

// migrate-storage reads "--from bolt PATH --to postgres [URL]" whatever
// order cobra leaves PATH and URL in, and refuses any other move or
// argument without quoting the URL (it may hold a password).
func TestStorageMoveArguments(t *testing.T) {
	const url = "postgres://u:hunter2@db:5432/t"
	for _, args := range [][]string{{"/d/t.db", url}, {url, "/d/t.db"}} {
		mv, err := storageMove("bolt", "postgres", args)
		if err != nil || mv.BoltPath != "/d/t.db" || mv.PostgresURL != url {
			t.Errorf("%q: %+v, %v", args, mv, err)
		}
	}
	if mv, err := storageMove("bolt", "postgres", []string{"/d/t.db"}); err != nil || mv.PostgresURL != "" {
		t.Errorf("URL from the config: %+v, %v", mv, err)
	}
	for _, tc := range []struct {
		from, to string
		args     []string
	}{
		{"postgres", "bolt", []string{"/d/t.db", url}},
		{"bolt", "postgres", nil},
		{"bolt", "postgres", []string{url}},
		{"bolt", "postgres", []string{"/d/t.db", url, url}},
		{"bolt", "postgres", []string{"/d/t.db", "/d/u.db"}},
	} {
		_, err := storageMove(tc.from, tc.to, tc.args)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%s → %s %q: %v, want a usage error", tc.from, tc.to, tc.args, err)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the usage error quotes the URL: %v", err)
		}
	}
}
