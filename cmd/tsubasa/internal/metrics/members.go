package metrics

import "github.com/prometheus/client_golang/prometheus"

// MemberMetrics count what members do, so an operator can see passkeys
// being adopted: logins by method, and the passkey offer after a password
// login, shown, accepted (a passkey created from it) and declined. The
// login UI calls them (loginui.Metrics).
type MemberMetrics struct {
	logins *prometheus.CounterVec
	offers *prometheus.CounterVec
}

// loginMethods are the methods the login UI names; every one shows, at 0,
// from the start, and anything else counts as "other" (a fixed set of
// labels, whatever a caller passes).
var loginMethods = []string{"pwd", "pwd+otp", "pin", "pin+otp", "otp", "passkey"}

var offerOutcomes = []string{"shown", "accepted", "declined"}

// Members registers the member metrics beside m's.
func (m *Metrics) Members() *MemberMetrics {
	mm := &MemberMetrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsubasa_logins_total", Help: "Logins established, by method: pwd, pwd+otp, pin, pin+otp, otp, passkey (other: anything else).",
		}, []string{"method"}),
		offers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsubasa_passkey_offers_total", Help: "The passkey offer after a password login: shown, accepted (a passkey was created from it), declined (\"not now\").",
		}, []string{"outcome"}),
	}
	for _, l := range loginMethods {
		mm.logins.WithLabelValues(l)
	}
	mm.logins.WithLabelValues("other")
	for _, o := range offerOutcomes {
		mm.offers.WithLabelValues(o)
	}
	m.reg.MustRegister(mm.logins, mm.offers)
	return mm
}

// Login counts an established login.
func (m *MemberMetrics) Login(method string) {
	m.logins.WithLabelValues(known(method, loginMethods)).Inc()
}

// PasskeyOffer counts an offer's outcome.
func (m *MemberMetrics) PasskeyOffer(outcome string) {
	m.offers.WithLabelValues(known(outcome, offerOutcomes)).Inc()
}

func known(v string, set []string) string {
	for _, s := range set {
		if s == v {
			return v
		}
	}
	return "other"
}
