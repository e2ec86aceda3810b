package attack

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// fetchForMetrics fetches u with a plain client: its status and body.
func fetchForMetrics(t *testing.T, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAttackMetricsScrapedFromPublicListener plays a stranger reading
// /metrics on the address members use: request counts per endpoint and
// status, login outcomes, process details. It must be 404 there and served
// only on the management listener (metrics.listen), while /healthz stays
// public for load balancers.
func TestAttackMetricsScrapedFromPublicListener(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	if code, body := fetchForMetrics(t, s.Issuer+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "tsubasa_") {
		t.Errorf("public /metrics: status %d, want 404 without metrics:\n%.300s", code, body)
	}
	for _, path := range []string{"/metrics/", "/METRICS", "/debug/pprof/", "/debug/vars"} {
		if code, body := fetchForMetrics(t, s.Issuer+path); strings.Contains(body, "tsubasa_http_requests_total") || strings.Contains(body, "goroutine") {
			t.Errorf("public %s (status %d) shows metrics or profiles", path, code)
		}
	}
	if code, _ := fetchForMetrics(t, s.Issuer+"/healthz"); code != http.StatusOK {
		t.Errorf("public /healthz: status %d, want 200", code)
	}
	code, body := fetchForMetrics(t, s.Metrics+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "tsubasa_http_requests_total") {
		t.Fatalf("management /metrics: status %d, want 200 with tsubasa_http_requests_total:\n%.300s", code, body)
	}
	// The management listener serves metrics and nothing of the provider.
	for _, path := range []string{"/.well-known/openid-configuration", "/login", "/healthz"} {
		if code, _ := fetchForMetrics(t, s.Metrics+path); code != http.StatusNotFound {
			t.Errorf("management listener %s: status %d, want 404", path, code)
		}
	}
}

// TestAttackProfilesOnlyWhenAskedAndOnlyOnManagement: Go's profiles show
// the process's code paths and a CPU profile costs CPU, so /debug/pprof/
// is served only with metrics.pprof, only on the loopback management
// listener, never on the public one.
func TestAttackProfilesOnlyWhenAskedAndOnlyOnManagement(t *testing.T) {
	off := e2e.Start(t, e2e.Options{})
	if code, body := fetchForMetrics(t, off.Metrics+"/debug/pprof/"); code != http.StatusNotFound || strings.Contains(body, "goroutine") {
		t.Errorf("management /debug/pprof/ without metrics.pprof: status %d, want 404", code)
	}
	on := e2e.Start(t, e2e.Options{Env: []string{"TSUBASA_METRICS_PPROF=true"}})
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		if code, body := fetchForMetrics(t, on.Issuer+path); strings.Contains(body, "goroutine") || strings.Contains(body, "tsubasa") {
			t.Errorf("public %s with metrics.pprof (status %d) shows profiles", path, code)
		}
	}
	code, body := fetchForMetrics(t, on.Metrics+"/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("management /debug/pprof/goroutine with metrics.pprof: status %d, want 200 with a profile:\n%.300s", code, body)
	}
}
