package main

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
	if got := memoryLimit(cfg); got != 300<<20 {
		t.Errorf("set limit: %d MiB", got>>20)
	}
	cfg.Runtime.MemoryLimitMiB = 0
	cfg.Password.MaxConcurrentHashes = 3
	cfg.Password.Argon2.MemoryKiB = 8192
	if got := memoryLimit(cfg); got != (128+2*3*8)<<20 {
		t.Errorf("derived limit: %d MiB, want 176", got>>20)
	}
	cfg.Password.MaxConcurrentHashes = 0
	cfg.Password.Argon2.MemoryKiB = 0
	if got, want := memoryLimit(cfg), int64(128<<20+2*runtime.NumCPU()*19456<<10); got != want {
		t.Errorf("derived limit with defaults: %d, want %d", got, want)
	}
}

func TestTuneGCLeavesTheEnvironmentAlone(t *testing.T) {
	gc0, limit0 := debug.SetGCPercent(100), debug.SetMemoryLimit(1<<40)
	t.Cleanup(func() { debug.SetGCPercent(gc0); debug.SetMemoryLimit(limit0) })
	cfg := config.Default()
	cfg.Runtime.MemoryLimitMiB = 250
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	tuneGC(cfg, log)
	if gc, limit := gcPercent(), debug.SetMemoryLimit(-1); gc != 400 || limit != 250<<20 {
		t.Errorf("from the config: GOGC %d, limit %d MiB; want 400 and 250", gc, limit>>20)
	}

	// Set in the environment: the runtime read them at start; keep them.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(500 << 20)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "500MiB")
	tuneGC(cfg, log)
	if gc, limit := gcPercent(), debug.SetMemoryLimit(-1); gc != 150 || limit != 500<<20 {
		t.Errorf("with the environment set: GOGC %d, limit %d MiB; want 150 and 500", gc, limit>>20)
	}
}
