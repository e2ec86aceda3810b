package loadtest

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// loadReport is the result of a run. Latency (p50_ms …) is per successful
// iteration: a whole flow for login and sso (four or five requests, see
// requests_per_second), one request for the other scenarios.
type loadReport struct {
	Scenario    string `json:"scenario"`
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id,omitempty"`
	IDTokenAlg  string `json:"id_token_alg,omitempty"`
	Concurrency int    `json:"concurrency"`
	// OfferedRate is --rate, iterations offered per second (0: a closed
	// loop); LateStarts counts the iterations a free worker took more
	// than lateAfter after they were due, and MaxStartLagMS is the
	// longest such wait (schedule.go).
	OfferedRate         float64 `json:"offered_rate,omitempty"`
	LateStarts          int64   `json:"late_starts,omitempty"`
	MaxStartLagMS       float64 `json:"max_start_lag_ms,omitempty"`
	DurationS           float64 `json:"duration_s"`
	Iterations          uint64  `json:"iterations"`
	IterationsPerSecond float64 `json:"iterations_per_second"`
	Requests            uint64  `json:"requests"`
	RequestsPerSecond   float64 `json:"requests_per_second"`
	latencySummary
	RequestLatency latencySummary `json:"request_latency"`
	// Errors counts failed iterations by HTTP status, "transport" or
	// "invalid"; ErrorSamples holds the first failure of each.
	Errors       map[string]uint64 `json:"errors"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	Hash         *hashCeiling      `json:"argon2id,omitempty"`
	// Import is the admin-import scenario's count of members and rate.
	Import *importReport `json:"import,omitempty"`
	// Server is the server process's memory and CPU (with --pid).
	Server *serverReport `json:"server,omitempty"`
	// LoadCPUSeconds is this command's own CPU time: on the server's machine
	// it is taken from the server.
	LoadCPUSeconds float64 `json:"load_cpu_s"`
	// OtherCPUSeconds is the CPU time the rest of the machine used meanwhile
	// (Linux): much of it means the figures were shared with something else.
	OtherCPUSeconds float64 `json:"other_cpu_s"`
	// SignedInline counts the client assertions and DPoP proofs signed
	// inside the timed run, once the pre-signed ones (--presign) ran out.
	SignedInline int64 `json:"signed_inline,omitempty"`
	// Targets counts the connections opened to each --target.
	Targets []targetReport `json:"targets,omitempty"`
}

func newReport(l *loader, workers []*worker, elapsed time.Duration) *loadReport {
	var iter, req latencyHist
	rep := &loadReport{
		Scenario: l.o.Scenario, Issuer: l.o.Issuer, Concurrency: l.o.Concurrency,
		DurationS: float64(elapsed.Milliseconds()) / 1000, Errors: map[string]uint64{}, ErrorSamples: map[string]string{},
	}
	if scenarios[l.o.Scenario].needs >= needsClient {
		rep.ClientID = l.o.ClientID
	}
	for _, w := range workers {
		iter.merge(&w.iter)
		req.merge(&w.req)
		rep.Iterations += w.iters
		rep.Requests += w.requests
		for k, n := range w.errs {
			rep.Errors[k] += n
			if _, ok := rep.ErrorSamples[k]; !ok {
				rep.ErrorSamples[k] = w.samples[k]
			}
		}
		if rep.IDTokenAlg == "" {
			rep.IDTokenAlg = w.idAlg
		}
	}
	if s := elapsed.Seconds(); s > 0 {
		rep.IterationsPerSecond = round1(float64(rep.Iterations) / s)
		rep.RequestsPerSecond = round1(float64(rep.Requests) / s)
	}
	rep.latencySummary = iter.summary()
	rep.RequestLatency = req.summary()
	rep.Targets = l.targets.report()
	return rep
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// seconds is d in seconds, rounded to 10ms.
func seconds(d time.Duration) float64 {
	return float64(d.Round(10*time.Millisecond).Milliseconds()) / 1000
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func printReport(w io.Writer, r *loadReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	sc := r.Scenario
	if r.ClientID != "" {
		sc += " (client " + r.ClientID
		if r.IDTokenAlg != "" {
			sc += ", ID tokens " + r.IDTokenAlg
		}
		sc += ")"
	}
	row("Scenario", "%s", sc)
	row("Issuer", "%s", r.Issuer)
	for i, t := range r.Targets {
		label := ""
		if i == 0 {
			label = "Targets"
		}
		row(label, "%s: %d connections", t.Addr, t.Connections)
	}
	row("Concurrency", "%d", r.Concurrency)
	if r.OfferedRate > 0 {
		row("Offered", "%.1f iterations/s, on a schedule (latency counts from when each was due); %d started late (> %v), the longest %.2fms after it was due",
			r.OfferedRate, r.LateStarts, lateAfter, r.MaxStartLagMS)
	}
	row("Duration", "%.1fs", r.DurationS)
	unit := "iterations"
	if sc := r.Scenario; sc == "login" || sc == "sso" {
		unit = "flows"
	}
	row("Throughput", "%.1f %s/s (%d), %.1f requests/s (%d)", r.IterationsPerSecond, unit, r.Iterations, r.RequestsPerSecond, r.Requests)
	row("Latency", "%s  (per %s)", latencyText(r.latencySummary), strings.TrimSuffix(unit, "s"))
	if r.Requests != r.Iterations {
		row("Request latency", "%s", latencyText(r.RequestLatency))
	}
	if len(r.Errors) == 0 {
		row("Errors", "none")
	}
	keys := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		label := ""
		if i == 0 {
			label = "Errors"
		}
		row(label, "%s: %d  (first: %.160s)", k, r.Errors[k], r.ErrorSamples[k])
	}
	if h := r.Hash; h != nil {
		row("Password hash", "argon2id m=%d t=%d p=%d: %.2f ms of CPU per hash with %d at once (%.2f before the run, %.2f after); %.2f ms alone",
			h.MemoryKiB, h.Iterations, h.Parallelism, h.HashMS, h.Hashes, h.HashMSBefore, h.HashMSAfter, h.AloneMS)
		row("Hash ceiling", "%.1f logins/s on %d cores; reached %.1f%% (%.1f%% of %.1f/s, hashes alone)",
			h.PerSecond, h.Cores, h.Percent, h.AlonePercent, h.AlonePerSecond)
	}
	if m := r.Import; m != nil {
		row("Import", "%.1f members/s: %d created, %d skipped, %d row errors of %d rows in %d bodies of %d (%d failed)",
			m.MembersPerSecond, m.Created, m.Skipped, m.RowErrors, m.Rows, m.Bodies, m.Batch, m.FailedBodies)
	}
	if m := r.Server; m != nil {
		row("Server memory", "peak RSS %.1f MiB during the run, of which heap and stacks %.1f MiB, the rest the mapped database and binary (VmHWM %.1f MiB since start; pid %d)",
			m.PeakMiB, m.PeakAnonMiB, m.HWMMiB, m.PID)
		if m.Error != "" {
			row("Server", "%s", m.Error)
		} else {
			row("Server CPU", "%.2fs, %.3f ms per %s", m.CPUSeconds, m.CPUMsPerIteration, strings.TrimSuffix(unit, "s"))
		}
	}
	row("Load CPU", "%.2fs (this command); %.2fs other processes", r.LoadCPUSeconds, r.OtherCPUSeconds)
	if r.SignedInline > 0 {
		row("Signed in the run", "%d assertions or proofs (the pre-signed ones ran out)", r.SignedInline)
	}
	tw.Flush()
}

func latencyText(s latencySummary) string {
	return fmt.Sprintf("p50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms  mean %.2fms", s.P50, s.P95, s.P99, s.Max, s.Mean)
}
