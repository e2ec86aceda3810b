package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"tsubasa/config"
	"tsubasa/provider/member"
)

// hashCeiling is the most password logins per second the server's machine
// can do: each login verifies one argon2id hash, which holds a core for its
// whole duration, and the server runs at most `slots` at once.
type hashCeiling struct {
	MemoryKiB   uint32 `json:"memory_kib"`
	Iterations  uint32 `json:"iterations"`
	Parallelism uint8  `json:"parallelism"`
	// HashMS is the CPU time of one hash alone: the median of 7 timed
	// just before the run (after 3 untimed ones) and 7 just after it.
	HashMS float64 `json:"hash_ms"`
	// HashMSBefore and HashMSAfter are the medians of each 7: far apart,
	// the machine's speed changed during the run.
	HashMSBefore float64 `json:"hash_ms_before"`
	HashMSAfter  float64 `json:"hash_ms_after"`
	// ConcurrentHashMS is the time per hash with as many hashes at once as
	// the server runs: memory bandwidth, shared between them, makes it
	// longer than HashMS on most machines, so the ceiling is not quite
	// reachable.
	ConcurrentHashMS float64 `json:"concurrent_hash_ms"`
	ConcurrentHashes int     `json:"concurrent_hashes"`
	Cores            int     `json:"cores"`
	PerSecond        float64 `json:"ceiling_per_second"`
	Percent          float64 `json:"percent_of_ceiling"`
}

// hashMeter times argon2id with the configured parameters in this
// process, with the server's own Hasher (working memory kept per slot).
// On the server's machine a hash here costs what one login's verify costs
// there. It times hashes on either side of the run, because on a shared
// machine a core's speed drifts over seconds.
type hashMeter struct {
	c      hashCeiling
	hasher *member.Hasher
	hashes int // run at once by the server
	times  []time.Duration
}

const hashSamples = 7 // timed on each side of the run

// startHashMeter warms the hasher and times hashes before the run.
func startHashMeter(cfg config.Config) *hashMeter {
	a := cfg.Password.Argon2
	m := &hashMeter{c: hashCeiling{MemoryKiB: a.MemoryKiB, Iterations: a.Iterations, Parallelism: a.Parallelism}}
	c := &m.c
	if c.MemoryKiB == 0 {
		c.MemoryKiB = member.DefaultMemoryKiB
	}
	if c.Iterations == 0 {
		c.Iterations = member.DefaultIterations
	}
	if c.Parallelism == 0 {
		c.Parallelism = member.DefaultParallelism
	}
	// A hash with parallelism p keeps p cores busy; the server's limiter
	// runs max_concurrent_hashes at once (default: one per CPU).
	c.Cores = runtime.NumCPU()
	m.hashes = max(c.Cores/int(c.Parallelism), 1)
	if n := cfg.Password.MaxConcurrentHashes; n > 0 {
		m.hashes = min(m.hashes, n)
	}
	m.hasher = member.NewHasher(member.HashOptions{MemoryKiB: c.MemoryKiB, Iterations: c.Iterations,
		Parallelism: c.Parallelism, MaxConcurrent: m.hashes})
	// The first hashes of a process fault their memory in and take about
	// twice as long as the rest: they are not timed.
	for range 3 {
		m.hash()
	}
	// The same hashes, as many at once as the server runs: once untimed,
	// so that each slot has its memory, then three rounds by the clock.
	const rounds = 3
	together := func() {
		var wg sync.WaitGroup
		for range m.hashes {
			wg.Go(m.hash)
		}
		wg.Wait()
	}
	together()
	start := time.Now()
	for range rounds {
		together()
	}
	c.ConcurrentHashMS, c.ConcurrentHashes = ms(time.Since(start)/rounds), m.hashes
	c.HashMSBefore = ms(m.sample())
	return m
}

func (m *hashMeter) hash() {
	if _, err := m.hasher.Hash(context.Background(), "Loadtest-password"); err != nil {
		panic(err) // only ErrBusy or a context's end, neither possible here
	}
}

// sample times hashSamples hashes one at a time and returns their median.
// A hash is timed by the CPU time it costs this process, not by the
// clock: on a shared machine the clock also counts what the scheduler or
// the hypervisor gave to others.
func (m *hashMeter) sample() time.Duration {
	times := make([]time.Duration, hashSamples)
	for i := range times {
		start := selfCPU()
		m.hash()
		times[i] = selfCPU() - start
	}
	m.times = append(m.times, times...)
	slices.Sort(times)
	return times[len(times)/2]
}

// finish times hashes after the run and computes the ceiling and the share
// of it that perSecond logins reached.
func (m *hashMeter) finish(perSecond float64) *hashCeiling {
	c := m.c
	c.HashMSAfter = ms(m.sample())
	slices.Sort(m.times)
	per := (m.times[len(m.times)/2-1] + m.times[len(m.times)/2]) / 2
	c.HashMS = ms(per)
	if per > 0 {
		c.PerSecond = float64(m.hashes) / per.Seconds()
		c.Percent = float64(int(perSecond/c.PerSecond*1000+0.5)) / 10
	}
	return &c
}

// procSampler watches a process (the server, given by --pid) while the
// load runs: its resident memory every 100ms, and its CPU time.
type procSampler struct {
	pid      int
	cpuStart time.Duration
	mu       sync.Mutex
	peak     uint64 // largest VmRSS seen, KiB
	peakAnon uint64 // largest RssAnon (heap, stacks) seen, KiB
	err      error
	stop     chan struct{}
	done     chan struct{}
}

// serverReport is what the report shows of the server process.
type serverReport struct {
	PID int `json:"pid"`
	// PeakMiB is the largest VmRSS sampled (every 100ms) during the run.
	PeakMiB float64 `json:"peak_rss_mib"`
	// PeakAnonMiB is the largest RssAnon: the heap and stacks, without the
	// pages of the memory-mapped database and of the binary that VmRSS also
	// counts (the kernel can drop those under memory pressure).
	PeakAnonMiB float64 `json:"peak_anon_mib"`
	// HWMMiB is the kernel's VmHWM at the end: the peak since the process
	// started, which may predate this run.
	HWMMiB float64 `json:"hwm_mib"`
	// CPUSeconds is the server's CPU time (user and system) during the run;
	// per iteration it is the figure to size a deployment by.
	CPUSeconds        float64 `json:"cpu_s"`
	CPUMsPerIteration float64 `json:"cpu_ms_per_iteration"`
	// Error says why the figures are incomplete (the process ended?).
	Error string `json:"error,omitempty"`
}

func startProc(pid int) (*procSampler, error) {
	s := &procSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := s.sample(); err != nil {
		return nil, fmt.Errorf("--pid %d: %w", pid, err)
	}
	cpu, err := procCPU(pid)
	if err != nil {
		return nil, fmt.Errorf("--pid %d: %w", pid, err)
	}
	s.cpuStart = cpu
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if _, err := s.sample(); err != nil {
					s.mu.Lock()
					s.err = err
					s.mu.Unlock()
					return
				}
			}
		}
	}()
	return s, nil
}

// sample reads /proc/PID/status and keeps the peak VmRSS; it returns VmHWM.
func (s *procSampler) sample() (hwm uint64, err error) {
	f, err := procStatus(s.pid)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.peak = max(s.peak, f["VmRSS"])
	s.peakAnon = max(s.peakAnon, f["RssAnon"])
	s.mu.Unlock()
	return f["VmHWM"], nil
}

// finish stops sampling and reports. A process that ended meanwhile
// leaves the figures gathered until then, and an error saying so.
func (s *procSampler) finish(iterations uint64) serverReport {
	close(s.stop)
	<-s.done
	hwm, err := s.sample()
	cpu, cerr := procCPU(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := serverReport{PID: s.pid, PeakMiB: kibToMiB(s.peak), PeakAnonMiB: kibToMiB(s.peakAnon), HWMMiB: kibToMiB(hwm)}
	if err := errors.Join(s.err, err, cerr); err != nil {
		r.Error = err.Error()
		return r
	}
	used := cpu - s.cpuStart
	r.CPUSeconds = seconds(used)
	if iterations > 0 {
		r.CPUMsPerIteration = float64(int64(float64(used.Microseconds())/float64(iterations)+0.5)) / 1000
	}
	return r
}

func kibToMiB(k uint64) float64 { return float64(k*10/1024) / 10 }

// procStatus reads the "kB" fields of /proc/PID/status (Linux only).
func procStatus(pid int) (map[string]uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		fields := bytes.Fields(v)
		if len(fields) == 2 && string(fields[1]) == "kB" {
			if n, err := strconv.ParseUint(string(fields[0]), 10, 64); err == nil {
				out[string(k)] = n
			}
		}
	}
	if _, ok := out["VmRSS"]; !ok {
		return nil, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return out, nil
}

// procCPU is a process's user and system CPU time from /proc/PID/stat, in
// clock ticks of 10ms (USER_HZ is 100 on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it follow
	// its closing parenthesis, from the state (field 3) on.
	i := bytes.LastIndexByte(b, ')')
	f := bytes.Fields(b[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// machineCPU is the CPU time every core of the machine spent busy (not
// idle or waiting for I/O), from /proc/stat; 0 where there is none.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return 0
	}
	var busy uint64
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(string(v), 10, 64)
		// user nice system idle iowait irq softirq steal (guest time is
		// already in user).
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

// selfCPU is this process's CPU time so far (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
