package loadtest

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
)

// HashSpec is the server's password hash: its argon2id parameters and a
// way to run it. The login scenario times it to report the hash ceiling.
// The command builds it from the server's config, with the server's own
// hasher: this package knows no server code.
type HashSpec struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8 // at least 1
	// MaxConcurrent is password.max_concurrent_hashes (0: one per CPU).
	MaxConcurrent int
	// New returns the server's hash function running at most n hashes at
	// once, as the server's limiter does.
	New func(n int) func(ctx context.Context, password string) error
	// GCPercent and MemoryLimit are the server's collector settings
	// (GOGC, and GOMEMLIMIT in bytes; 0 and -1 when unknown): the command
	// runs under them, so that hashes are timed as the server runs them.
	GCPercent   int
	MemoryLimit int64
}

// hashCeiling is the most password logins per second the server's machine
// can do: each login verifies one argon2id hash, which holds a core for its
// whole duration, and the server runs at most Hashes at once (one per core
// by default).
type hashCeiling struct {
	MemoryKiB   uint32 `json:"memory_kib"`
	Iterations  uint32 `json:"iterations"`
	Parallelism uint8  `json:"parallelism"`
	Cores       int    `json:"cores"`
	Hashes      int    `json:"concurrent_hashes"`
	// HashMS is the CPU time of one hash while Hashes run at once, as the
	// server runs them: the time per hash of the ceiling. The cores share
	// the memory bandwidth and the last-level cache, so on most machines
	// it is a few percent above AloneMS. It is the mean over rounds timed
	// for 0.75s just before the run and 0.75s just after it (HashMSBefore,
	// HashMSAfter): on a shared machine a core's speed drifts over seconds.
	HashMS       float64 `json:"hash_ms"`
	HashMSBefore float64 `json:"hash_ms_before"`
	HashMSAfter  float64 `json:"hash_ms_after"`
	// AloneMS is the CPU time of one hash with nothing else running (the
	// median of 7 before the run and 7 after).
	AloneMS float64 `json:"alone_hash_ms"`
	// PerSecond is Hashes hashes every HashMS, and Percent the share of it
	// the run reached. The Alone figures are the same with AloneMS: a
	// bound no machine whose cores share a cache reaches.
	PerSecond      float64 `json:"ceiling_per_second"`
	Percent        float64 `json:"percent_of_ceiling"`
	AlonePerSecond float64 `json:"alone_ceiling_per_second"`
	AlonePercent   float64 `json:"percent_of_alone_ceiling"`
}

// hashMeter times argon2id with the configured parameters in this
// process, with the server's own Hasher (working memory kept per slot).
// On the server's machine a hash here costs what one login's verify costs
// there. It times hashes on both sides of the run.
type hashMeter struct {
	c        hashCeiling
	hasher   func(ctx context.Context, password string) error
	alone    []time.Duration // CPU time of each hash alone
	together time.Duration   // CPU time of the hashes run Hashes at once
	rounds   int             // of Hashes at once, timed
}

const (
	aloneSamples = 7 // hashes alone timed on each side of the run
	// Rounds of Hashes at once are timed on each side of the run for at
	// least this long (and at least minRounds): seven hashes, a fifth of
	// a second, gave medians 20% apart on either side of one run.
	togetherFor = 750 * time.Millisecond
	minRounds   = 6
)

// startHashMeter warms the hasher and times hashes before the run.
func startHashMeter(spec HashSpec) *hashMeter {
	m := &hashMeter{c: hashCeiling{MemoryKiB: spec.MemoryKiB, Iterations: spec.Iterations, Parallelism: max(spec.Parallelism, 1)}}
	c := &m.c
	// A hash with parallelism p keeps p cores busy; the server's limiter
	// runs max_concurrent_hashes at once (default: one per CPU).
	c.Cores = runtime.NumCPU()
	c.Hashes = max(c.Cores/int(c.Parallelism), 1)
	if n := spec.MaxConcurrent; n > 0 {
		c.Hashes = min(c.Hashes, n)
	}
	m.hasher = spec.New(c.Hashes)
	// The first hashes of a process fault their memory in and take about
	// twice as long as the rest: they are not timed. Each slot gets its
	// memory in the first round at once.
	for range 3 {
		m.hash()
	}
	m.round()
	c.HashMSBefore = m.sample()
	return m
}

func (m *hashMeter) hash() {
	if err := m.hasher(context.Background(), "Loadtest-password"); err != nil {
		panic(err) // only ErrBusy or a context's end, neither possible here
	}
}

// round runs Hashes hashes at once.
func (m *hashMeter) round() {
	var wg sync.WaitGroup
	for range m.c.Hashes {
		wg.Go(m.hash)
	}
	wg.Wait()
}

// sample times hashes alone and rounds at once, and returns the CPU time
// per hash of the rounds. Hashes are timed by the CPU time they cost this
// process, not by the clock: on a shared machine the clock also counts
// what the scheduler or the hypervisor gave to others.
func (m *hashMeter) sample() float64 {
	for range aloneSamples {
		start := selfCPU()
		m.hash()
		m.alone = append(m.alone, selfCPU()-start)
	}
	start, clock, rounds := selfCPU(), time.Now(), 0
	for rounds < minRounds || time.Since(clock) < togetherFor {
		m.round()
		rounds++
	}
	cpu := selfCPU() - start
	m.together += cpu
	m.rounds += rounds
	return ms(cpu / time.Duration(rounds*m.c.Hashes))
}

// finish times hashes after the run and computes the ceilings and the
// share of them that perSecond logins reached.
func (m *hashMeter) finish(perSecond float64) *hashCeiling {
	c := m.c
	c.HashMSAfter = m.sample()
	per := m.together / time.Duration(m.rounds*c.Hashes)
	slices.Sort(m.alone)
	alone := (m.alone[len(m.alone)/2-1] + m.alone[len(m.alone)/2]) / 2
	c.HashMS, c.AloneMS = ms(per), ms(alone)
	ceiling := func(d time.Duration) (rate, percent float64) {
		if d <= 0 {
			return 0, 0
		}
		rate = float64(c.Hashes) / d.Seconds()
		return rate, float64(int(perSecond/rate*1000+0.5)) / 10
	}
	c.PerSecond, c.Percent = ceiling(per)
	c.AlonePerSecond, c.AlonePercent = ceiling(alone)
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
