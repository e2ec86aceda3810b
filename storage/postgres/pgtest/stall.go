package pgtest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StallListeners stops (SIGSTOP) the server processes of the stores'
// listeners (application_name tsubasa-listener-…) connected to the
// database at dbURL, and resumes them (SIGCONT) when resume is called or
// the test ends. A stalled listener delivers no notification and no ping,
// while the connection stays open: its store goes on answering from its
// caches, unaware of what other processes change, until its
// RevocationDelay has passed since its last ping came back. That is the
// window, at most storage.postgres.revocation_delay long, in which a
// replica has not yet heard of another's change, held open at will.
//
// Signalling the cluster's processes needs root (as CI runs the tests)
// or the cluster's user; without that right the test is skipped, saying
// so.
func StallListeners(t testing.TB, dbURL string) (resume func()) {
	t.Helper()
	pids := listenerPIDs(t, dbURL)
	var once sync.Once
	resume = func() {
		once.Do(func() {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
	t.Cleanup(resume)
	for _, pid := range pids {
		err := syscall.Kill(pid, syscall.SIGSTOP)
		if errors.Is(err, syscall.EPERM) {
			resume()
			t.Skipf("stalling a listener needs the right to signal PostgreSQL's processes (root, or the cluster's user): %v", err)
		}
		if err != nil {
			t.Fatalf("stopping listener backend %d: %v", pid, err)
		}
	}
	for _, pid := range pids {
		waitStopped(t, pid)
	}
	return resume
}

// listenerPIDs returns the backend pids of the listeners on dbURL's
// database: at least one, or the test fails.
func listenerPIDs(t testing.TB, dbURL string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'tsubasa-listener-%'`)
	if err != nil {
		t.Fatalf("pgtest: listing listeners: %v", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(pids) == 0 {
		t.Fatalf("pgtest: %d listeners on the database (%v); want the stores' listeners", len(pids), err)
	}
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out
}

// waitStopped waits until the kernel shows pid stopped, so that nothing
// the test does next can still be delivered by it. Where /proc cannot be
// read, the signal is taken as delivered.
func waitStopped(t testing.TB, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// pid (comm) state …: comm may hold spaces, the state follows its ')'.
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && (f[0] == "T" || f[0] == "t") {
			return
		}
	}
	t.Fatalf("listener backend %d did not stop", pid)
}
