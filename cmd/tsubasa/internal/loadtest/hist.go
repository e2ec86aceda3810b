package loadtest

import (
	"math/bits"
	"time"
)

// latencyHist is a log-linear histogram of durations in microseconds, in the
// manner of HdrHistogram: exact below 64µs, then 32 buckets per power of
// two, so every recorded value is known within about 3%. Its size is fixed
// (a few KiB) however long the run, and histograms of different workers
// merge by adding counts, so workers record without sharing anything.
type latencyHist struct {
	counts [histBuckets]uint32
	n      uint64
	sumUS  uint64
	maxUS  uint64
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits // buckets per power of two
	histLinear  = 2 * histSub      // values below this have a bucket each
	// histMaxBits bounds the values kept apart: 2^40µs is 12 days; longer
	// values share the last bucket.
	histMaxBits = 40
	histBuckets = histLinear + (histMaxBits-histSubBits-1)*histSub
)

// histIndex returns the bucket of v (µs).
func histIndex(v uint64) int {
	if v < histLinear {
		return int(v)
	}
	b := bits.Len64(v)
	if b > histMaxBits {
		return histBuckets - 1
	}
	shift := b - (histSubBits + 1)
	top := v >> uint(shift) // in [histSub, 2·histSub)
	return histLinear + (shift-1)*histSub + int(top) - histSub
}

// histRange returns the values [lo, hi) bucket i holds.
func histRange(i int) (lo, hi uint64) {
	if i < histLinear {
		return uint64(i), uint64(i) + 1
	}
	shift := (i-histLinear)/histSub + 1
	top := uint64((i-histLinear)%histSub + histSub)
	return top << uint(shift), (top + 1) << uint(shift)
}

func (h *latencyHist) record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	h.counts[histIndex(v)]++
	h.n++
	h.sumUS += v
	h.maxUS = max(h.maxUS, v)
}

func (h *latencyHist) merge(o *latencyHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sumUS += o.sumUS
	h.maxUS = max(h.maxUS, o.maxUS)
}

// quantile returns the value at q (0 < q ≤ 1): the middle of the bucket
// holding it, never above the largest value seen.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			lo, hi := histRange(i)
			mid := lo + (hi-lo-1)/2
			return time.Duration(min(mid, h.maxUS)) * time.Microsecond
		}
	}
	return time.Duration(h.maxUS) * time.Microsecond
}

func (h *latencyHist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sumUS/h.n) * time.Microsecond
}

func (h *latencyHist) max() time.Duration { return time.Duration(h.maxUS) * time.Microsecond }

// latencySummary is what the report shows of a histogram, in milliseconds.
type latencySummary struct {
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func (h *latencyHist) summary() latencySummary {
	return latencySummary{
		P50: ms(h.quantile(0.50)), P95: ms(h.quantile(0.95)), P99: ms(h.quantile(0.99)),
		Max: ms(h.max()), Mean: ms(h.mean()),
	}
}

// ms is d in milliseconds, rounded to 10µs.
func ms(d time.Duration) float64 {
	return float64(d.Round(10*time.Microsecond).Microseconds()) / 1000
}
