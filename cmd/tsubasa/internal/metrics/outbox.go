package metrics

import "github.com/prometheus/client_golang/prometheus"

// OutboxDeadLetters registers the count of outbox messages that failed
// for good, by channel (email, sms, backchannel_logout), and returns the
// function that counts one: operators alert on it.
func (m *Metrics) OutboxDeadLetters(channels ...string) func(channel string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tsubasa_outbox_dead_letters_total",
		Help: "Outbox messages that failed for good (attempts spent or refused), by channel.",
	}, []string{"channel"})
	for _, ch := range channels {
		c.WithLabelValues(ch) // every channel shows, at 0, from the start
	}
	m.reg.MustRegister(c)
	return func(channel string) { c.WithLabelValues(channel).Inc() }
}
