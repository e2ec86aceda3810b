package app

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"

	"tsubasa/config"
)

func TestMemoryLimit(t *testing.T) {
	cfg := config.Default()
	cfg.Runtime.MemoryLimitMiB = 300
	if got := memoryLimitOf(cfg); got != 300<<20 {
		t.Errorf("set limit: %d MiB", got>>20)
	}
	cfg.Runtime.MemoryLimitMiB = 0
	cfg.Password.MaxConcurrentHashes = 3
	cfg.Password.Argon2.MemoryKiB = 8192
	if got := memoryLimitOf(cfg); got != (128+4*3*8)<<20 {
		t.Errorf("derived limit: %d MiB, want 176", got>>20)
	}
	cfg.Password.MaxConcurrentHashes = 0
	cfg.Password.Argon2.MemoryKiB = 0
	if got, want := memoryLimitOf(cfg), int64(128<<20+4*runtime.NumCPU()*19456<<10); got != want {
		t.Errorf("derived limit with defaults: %d, want %d", got, want)
	}
}

func TestTuneRuntimeLeavesTheEnvironmentAlone(t *testing.T) {
	gc0, limit0, procs0 := debug.SetGCPercent(100), debug.SetMemoryLimit(1<<40), runtime.GOMAXPROCS(0)
	t.Cleanup(func() { debug.SetGCPercent(gc0); debug.SetMemoryLimit(limit0); runtime.GOMAXPROCS(procs0) })
	cfg := config.Default()
	cfg.Runtime.MemoryLimitMiB = 250
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOMAXPROCS", "")
	for range 2 { // the default is the runtime's choice plus one, however often it is applied
		tuneRuntime(cfg, log)
	}
	if gc, limit := currentGCPercent(), debug.SetMemoryLimit(-1); gc != 400 || limit != 250<<20 {
		t.Errorf("from the config: GOGC %d, limit %d MiB; want 400 and 250", gc, limit>>20)
	}
	if got := runtime.GOMAXPROCS(0); got != defaultProcs+1 {
		t.Errorf("GOMAXPROCS %d, want %d", got, defaultProcs+1)
	}
	cfg.Runtime.MaxProcs = 5
	tuneRuntime(cfg, log)
	if got := runtime.GOMAXPROCS(0); got != 5 {
		t.Errorf("GOMAXPROCS %d, want the config's 5", got)
	}

	// Set in the environment: the runtime read them at start; keep them.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(500 << 20)
	runtime.GOMAXPROCS(3)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "500MiB")
	t.Setenv("GOMAXPROCS", "3")
	tuneRuntime(cfg, log)
	if gc, limit := currentGCPercent(), debug.SetMemoryLimit(-1); gc != 150 || limit != 500<<20 {
		t.Errorf("with the environment set: GOGC %d, limit %d MiB; want 150 and 500", gc, limit>>20)
	}
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("with the environment set: GOMAXPROCS %d, want 3", got)
	}
}
