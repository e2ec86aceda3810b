package app

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"tsubasa/config"
	"tsubasa/provider/member"
)

// tuneRuntime applies the config's runtime section to the garbage
// collector and the scheduler, unless GOGC, GOMEMLIMIT or GOMAXPROCS in the
// environment already did.
//
// Most of what the server allocates lives for one request, and a
// collection costs about the same however much garbage it finds, so a
// larger GOGC makes fewer of them: GOGC=400 cut the server's CPU per
// refresh grant by a sixth to a fifth on the load-test machine. The soft
// memory limit keeps that from growing the heap without bound: near the
// limit, collections come sooner.
//
// A goroutine in a blocking system call keeps its scheduler slot (P) until
// the runtime's monitor takes it back, up to 10ms later when it has been
// idle. The store's commits fsync, so with one P per CPU a CPU often sat
// idle while a commit waited on the disk and argon2id hashes waited for a
// P: 4-6% idle and iowait during a login run at c=16. One P more than the
// CPUs keeps them busy: about 8% more logins per second, and refresh and
// sso no slower.
func tuneRuntime(cfg config.Config, log *slog.Logger) {
	procs := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") == "" {
		if procs = cfg.Runtime.MaxProcs; procs == 0 {
			procs = defaultProcs + 1
		}
		runtime.GOMAXPROCS(procs)
	}
	gc, limit := RuntimeSettings(cfg)
	debug.SetGCPercent(gc)
	debug.SetMemoryLimit(limit)
	log.Info("go runtime", "gc_percent", gc, "memory_limit_mib", limit>>20, "max_procs", procs)
}

// RuntimeSettings are the collector settings serve runs under: the
// config's runtime section, or GOGC and GOMEMLIMIT where the environment
// sets them (the runtime has read those already). The load command times
// password hashes under the same settings.
func RuntimeSettings(cfg config.Config) (gcPercent int, memoryLimit int64) {
	gcPercent, memoryLimit = cfg.Runtime.GCPercent, memoryLimitOf(cfg)
	if os.Getenv("GOGC") != "" {
		gcPercent = currentGCPercent()
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		memoryLimit = debug.SetMemoryLimit(-1)
	}
	return gcPercent, memoryLimit
}

// defaultProcs is the runtime's own GOMAXPROCS, read before anything
// changes it: the CPUs this process may use.
var defaultProcs = runtime.GOMAXPROCS(0)

// currentGCPercent is the current GOGC. SetGCPercent(-1) reads it by turning
// collection off, so it is put back at once.
func currentGCPercent() int {
	gc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	return gc
}

// memoryLimitOf is runtime.memory_limit_mib in bytes, or when 0, 128 MiB
// plus four times the argon2id memory of as many hashes as the limiter
// runs: what the hashes in flight hold, and three times as much for the
// blocks of finished hashes that the next collections free.
//
// Each hash takes its memory afresh from the heap (golang.org/x/crypto/argon2
// keeps none between calls). Near the limit the runtime gives freed pages
// back to the kernel, and the next hash faults every one of them in again,
// zeroed: with twice (204 MiB on 2 cores) a login cost 25% more server CPU
// than with four times (280 MiB), measured with the login load test, and
// 2 GiB was no better than four times.
func memoryLimitOf(cfg config.Config) int64 {
	if mib := cfg.Runtime.MemoryLimitMiB; mib > 0 {
		return int64(mib) << 20
	}
	hashes := cfg.Password.MaxConcurrentHashes
	if hashes <= 0 {
		hashes = runtime.NumCPU()
	}
	kib := cfg.Password.Argon2.MemoryKiB
	if kib == 0 {
		kib = member.DefaultMemoryKiB
	}
	return 128<<20 + 4*int64(hashes)*int64(kib)<<10
}
