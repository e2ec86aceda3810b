package attack

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/geoip/geoiptest"
	"tsubasa/provider/notify/notifytest"
)

// TestAttackSpoofedForwardingHeadersFakeAlertPlace: an intruder with the
// member's password logs in from abroad and writes the member's home
// address into X-Forwarded-For, Forwarded and X-Real-IP, straight to the
// server and through the trusted load balancer (which keeps a client's
// entries left of its own), so that the login alert shows the member's
// home city and reads as the member's own login. The place comes from the
// address the request really came from: the alert, the history and the
// devices page name the intruder's country and address.
func TestAttackSpoofedForwardingHeadersFakeAlertPlace(t *testing.T) {
	db := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geoiptest.Write(db, geoiptest.Tokyo("203.0.113.0/24"), geoiptest.Osaka(memberAddr+"/32"),
		geoiptest.Network{CIDR: attackerAddr + "/32", Country: "XK", Names: map[string]string{"en": "Kosovo", "ja": "コソボ"}}); err != nil {
		t.Fatal(err)
	}
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: proxyConfig + "geoip:\n  city_db: " + db + "\n"})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	lb := startLoadBalancer(t, s)
	home := http.Header{"X-Forwarded-For": {"203.0.113.9"}, "Forwarded": {"for=203.0.113.9"}, "X-Real-Ip": {"203.0.113.9"}}

	for name, via := range map[string]string{"straight to the server": "", "through the load balancer": lb} {
		t.Run(name, func(t *testing.T) {
			seen := len(loginAlerts(smtp))
			intruder := clientAt(t, s, attackerAddr, via)
			intruder.Transport = withHeaders{intruder.Transport, home}
			if p := guessWithHeaders(t, s, intruder, rp, e2e.MemberNumber, e2e.MemberPass, home); p.Location == "" {
				t.Fatalf("the intruder's login: status %d", p.Status)
			}
			smtp.WaitFor(t, func(notifytest.ReceivedMail) bool { return len(loginAlerts(smtp)) > seen }, 30*time.Second)
			mail := loginAlerts(smtp)[seen]
			text := strings.ReplaceAll(mail.Text, "\r\n", "\n")
			if !strings.Contains(text, "[Location] コソボ\n") || !strings.Contains(text, "[IP address] "+attackerAddr+"\n") || strings.Contains(text, "東京") {
				t.Errorf("the alert does not show where the login came from:\n%s", text)
			}
		})
	}
	member := clientAt(t, s, memberAddr, lb)
	codes := len(e2e.CodeMails(smtp))
	p := member.Get(t, s.Issuer+"/account/history")
	p = member.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if p.URL.Path == "/login/otp" { // the history's step-up
		_, code := e2e.MailCode(t, smtp, codes+1)
		p = member.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {code}})
	}
	if !strings.Contains(p.Body, "コソボ") || !strings.Contains(p.Body, "大阪市（日本）") || strings.Contains(p.Body, "東京") {
		t.Errorf("the history does not show the intruder's place and the member's own:\n%s", p.Body)
	}
}

// withHeaders adds headers to every request of a browser, as a script or a
// proxy the attacker runs would.
type withHeaders struct {
	next http.RoundTripper
	hdr  http.Header
}

func (w withHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range w.hdr {
		r.Header[k] = vs
	}
	return w.next.RoundTrip(r)
}

// loginAlerts are the login alerts received so far, in order.
func loginAlerts(smtp *notifytest.SMTPServer) []notifytest.ReceivedMail {
	var out []notifytest.ReceivedMail
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Subject, "Login from new device") {
			out = append(out, m)
		}
	}
	return out
}
