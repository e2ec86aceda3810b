package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// scrape returns the metrics page as a scraper reads it.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestInstrumentCountsByFixedEndpoints: requests are counted under a fixed
// set of endpoint labels, so random paths cannot grow the series, and a
// password login's answer is counted by its outcome.
func TestInstrumentCountsByFixedEndpoints(t *testing.T) {
	m := New()
	h := m.Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("answer") {
		case "redirect":
			w.WriteHeader(http.StatusSeeOther)
		case "wrong":
			w.WriteHeader(http.StatusUnauthorized)
		case "locked":
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	for _, target := range []string{
		"/oauth/token", "/static/app.css", "/demo/callback",
		"/wp-admin/x.php", "/../../etc/passwd", "/random-" + strings.Repeat("a", 50),
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, target, nil))
	}
	for _, answer := range []string{"redirect", "wrong", "wrong", "locked"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login?answer="+answer, nil))
	}
	page := scrape(t, m)
	for _, want := range []string{
		`tsubasa_http_requests_total{code="200",endpoint="/oauth/token"} 1`,
		`tsubasa_http_requests_total{code="200",endpoint="/static/"} 1`,
		`tsubasa_http_requests_total{code="200",endpoint="other"} 3`,
		`tsubasa_login_attempts_total{outcome="success"} 1`,
		`tsubasa_login_attempts_total{outcome="failure"} 2`,
		`tsubasa_login_attempts_total{outcome="throttled"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(page, "wp-admin") || strings.Contains(page, "passwd") {
		t.Error("a request path became a label")
	}
}

// TestSMSReasonsShowFromTheStart: every refusal reason is a series at 0
// before the first SMS, so an alert on it has something to read.
func TestSMSReasonsShowFromTheStart(t *testing.T) {
	m := New()
	s := m.SMS()
	s.Hooks().Refused("country")
	page := scrape(t, m)
	if !strings.Contains(page, `tsubasa_sms_refused_total{reason="country"} 1`) || !strings.Contains(page, "tsubasa_sms_sent_total 0") {
		t.Errorf("SMS metrics:\n%s", page)
	}
}
