package metrics

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsubasa/provider/notify"
)

// SMSMetrics count what the SMS guard does (notify.SMSHooks) and show its
// budget. The budget gauge reads the shared count from storage at each
// scrape, so it is right across replicas and falls as the hour moves on.
type SMSMetrics struct {
	reg      prometheus.Registerer
	sent     prometheus.Counter
	failed   prometheus.Counter
	refused  *prometheus.CounterVec
	warnings prometheus.Counter
}

// SMS registers the SMS guard's metrics beside m's.
func (m *Metrics) SMS() *SMSMetrics {
	return newSMSMetrics(m.reg)
}

func newSMSMetrics(reg prometheus.Registerer) *SMSMetrics {
	m := &SMSMetrics{
		reg: reg,
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tsubasa_sms_sent_total", Help: "SMS the driver accepted.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tsubasa_sms_failed_total", Help: "SMS handed to the driver that it failed to send (counted in the budget).",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsubasa_sms_refused_total",
			Help: "SMS refused before the driver, by reason: the number's country or type, or the hourly budget (sms.max_per_hour).",
		}, []string{"reason"}),
		warnings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tsubasa_sms_budget_warnings_total", Help: "Times the SMS budget reached 80% (at most once an hour per process).",
		}),
	}
	for _, r := range notify.SMSRefusalReasons() {
		m.refused.WithLabelValues(r) // every reason shows, at 0, from the start
	}
	reg.MustRegister(m.sent, m.failed, m.refused, m.warnings)
	return m
}

// Hooks are the guard's hooks that count.
func (m *SMSMetrics) Hooks() notify.SMSHooks {
	return notify.SMSHooks{
		Sent:    m.sent.Inc,
		Failed:  m.failed.Inc,
		Refused: func(reason string) { m.refused.WithLabelValues(reason).Inc() },
		Warning: m.warnings.Inc,
	}
}

// Watch adds the budget gauges of g.
func (m *SMSMetrics) Watch(g *notify.SMSGuard) {
	used := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tsubasa_sms_budget_used",
		Help: "SMS counted against sms.max_per_hour in the last hour, by every replica (NaN when storage cannot be read).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := g.Used(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	})
	limit := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tsubasa_sms_budget_limit", Help: "sms.max_per_hour: the most SMS the service sends in any hour.",
	}, func() float64 { return float64(g.Limit()) })
	m.reg.MustRegister(used, limit)
}
