package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus metrics, on their own registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
}

// New registers the metrics, the Go runtime's and the process's included.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsubasa_http_requests_total", Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tsubasa_http_request_duration_seconds", Help: "HTTP request latency by endpoint.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"endpoint"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsubasa_login_attempts_total", Help: "Password login attempts by outcome.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics for a scraper (the management listener only:
// it has no authentication).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// endpoints are the label values: a fixed set, so a scanner cannot blow
// up the metric's cardinality with random paths.
var metricEndpoints = []string{
	"/.well-known/openid-configuration", "/keys", "/authorize/callback", "/authorize", "/oauth/token",
	"/oauth/introspect", "/userinfo", "/revoke", "/end_session", "/login/password", "/login",
	"/logged-out", "/static/", "/demo/", "/api/telephone/verify", "/account", "/healthz", "/readyz",
	"/logout", "/admin/v1/",
	"/device_authorization", "/device", "/device/confirm",
}

func endpointOf(path string) string {
	for _, e := range metricEndpoints {
		if path == e || strings.HasSuffix(e, "/") && strings.HasPrefix(path, e) {
			return e
		}
	}
	return "other"
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Instrument counts requests and login outcomes (by the login form's answer:
// a redirect is a success, 401 a failure, 429 throttled, 503 busy).
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		ep := endpointOf(r.URL.Path)
		m.requests.WithLabelValues(ep, strconv.Itoa(sw.code)).Inc()
		m.latency.WithLabelValues(ep).Observe(time.Since(start).Seconds())
		if r.Method == http.MethodPost && (ep == "/login" || ep == "/login/password") {
			m.logins.WithLabelValues(loginOutcome(sw.code)).Inc()
		}
	})
}

func loginOutcome(code int) string {
	switch {
	case code == http.StatusFound || code == http.StatusSeeOther:
		return "success"
	case code == http.StatusUnauthorized:
		return "failure"
	case code == http.StatusTooManyRequests:
		return "throttled"
	case code == http.StatusServiceUnavailable:
		return "busy"
	default:
		return "error"
	}
}
