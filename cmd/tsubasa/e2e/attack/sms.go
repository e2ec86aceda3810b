package attack

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// SMS toll fraud (review finding 4): otp.sms_countries was checked
// against where the member lives, not against the number, so a member
// resident in Japan could have codes sent to foreign, international-network
// and premium-rate numbers whose operators share the fee with the attacker,
// and nothing bounded how many SMS the service sent in an hour.

var alertRe = regexp.MustCompile(`(?s)<div class="alert" role="alert" aria-live="assertive">(.*?)</div>`)

func alertText(body string) string {
	m := alertRe.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// smsServer starts deployment d with the test member whose mail and SMS
// go to recording servers.
func smsServer(t *testing.T, d e2e.Deployment, o e2e.Options) (*e2e.Server, *notifytest.SMTPServer, *notifytest.SMSWebhook) {
	t.Helper()
	smtp, sms := notifytest.NewSMTPServer(t), notifytest.NewSMSWebhook(t)
	_, o.SMTPPort = smtp.Addr()
	o.SMSURL = sms.URL()
	s := d.StartWithMember(t, o)
	return s, smtp, sms
}

// stepUp logs the test member in at path (which asks for a fresh one-time
// password) with the code mailed as number n, and returns the page.
func stepUp(t *testing.T, s *e2e.Server, smtp *notifytest.SMTPServer, b *e2e.Browser, path string, n int) e2e.Page {
	t.Helper()
	login := b.Get(t, s.Issuer+path)
	page := b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if page.URL.Path != "/login/otp" {
		t.Fatalf("after the password: %d at %s\n%s", page.Status, page.URL, page.Body)
	}
	_, code := e2e.MailCode(t, smtp, n)
	res := b.Post(t, page.URL, "/login/otp", url.Values{"authRequestID": {page.AuthRequestID(t)}, "otp": {code}})
	if res.URL.Path != path || res.Status != http.StatusOK {
		t.Fatalf("after the code: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	return res
}

// SMSTollFraudNumbersOnContactsPage plays a member resident in Japan
// (sms_countries [JP]) who registers, one after the other, numbers that
// earn an SMS pumper money: a UK mobile, an international network (+882),
// a UK premium-rate 0909, a North American number, and Japan's own
// premium-rate (0990), navi-dial (0570, a UAN) and IP-phone (050) ranges.
// (libphonenumber knows no Japanese shared-cost range; the UK's 0843
// service-charge numbers are premium-rate to it, and refused as such in
// the notify unit tests.) Each is refused on the contacts page with a
// Japanese message, and no SMS reaches the gateway. Before the fix each
// went on to the code entry and an SMS was sent.
func SMSTollFraudNumbersOnContactsPage(t *testing.T, d e2e.Deployment) {
	s, smtp, sms := smsServer(t, d, e2e.Options{Extra: "otp:\n  on_login: never\n"})
	b := e2e.NewBrowser(t, s)
	page := stepUp(t, s, smtp, b, "/account/contacts", 1)

	refused := []struct{ number, want string }{
		{"+44 7400 123456", "次の国・地域の携帯電話番号にのみ"},
		{"+882 16 1234 5678", "次の国・地域の携帯電話番号にのみ"},
		{"+44 909 876 5432", "次の国・地域の携帯電話番号にのみ"},
		{"+1 202-555-0123", "次の国・地域の携帯電話番号にのみ"},
		{"0990-12-3456", "この番号ではSMSを受け取れません"},
		{"0570-012-345", "この番号ではSMSを受け取れません"},
		{"050-1234-5678", "この番号ではSMSを受け取れません"},
	}
	for _, tc := range refused {
		res := b.Post(t, page.URL, "/account/contacts/phone", url.Values{"phone": {tc.number}})
		msg := alertText(res.Body)
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, tc.want) || strings.Contains(msg, "%!") {
			t.Errorf("%s: %d, message %q; want 422 on the contacts page saying %q", tc.number, res.Status, msg, tc.want)
		}
		// Straight to the code entry, as if the form had passed: nothing
		// is pending, so nothing is sent.
		if v := b.Get(t, s.Issuer+"/account/contacts/verify"); v.URL.Path != "/account/contacts" {
			t.Errorf("%s: the code entry opened (%s)", tc.number, v.URL)
		}
	}
	if got := sms.Requests(); len(got) != 0 {
		t.Fatalf("%d SMS reached the gateway, to %v", len(got), smsTargets(got))
	}

	// The page still works for a Japanese mobile: the SMS goes out.
	ok := b.Post(t, page.URL, "/account/contacts/phone", url.Values{"phone": {"090-8765-4321"}})
	if ok.URL.Path != "/account/contacts/verify" {
		t.Fatalf("a Japanese mobile: %d at %s\n%s", ok.Status, ok.URL, alertText(ok.Body))
	}
	waitSMS(t, sms, 1)
	if got := sms.Requests(); len(got) != 1 || got[0].To != "+819087654321" {
		t.Errorf("SMS to %v, want one to +819087654321", smsTargets(got))
	}
}

func smsTargets(rs []notifytest.SMSRequest) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.To)
	}
	return out
}

func waitSMS(t *testing.T, sms *notifytest.SMSWebhook, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(sms.Requests()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d SMS reached the gateway, want %d", len(sms.Requests()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SMSPumpingThroughManyAccountsHitsHourlyCeiling plays a pumper with
// many accounts, each with a Japanese mobile number and no email, who logs
// in to each from a fresh browser so that every login sends an SMS code
// (the per-member and per-address limits never trip: one send per
// account). With sms.max_per_hour 5, five SMS leave and no more; the other
// logins are told, in Japanese, that SMS cannot be sent now. The operator
// sees one warning at 80% and one error when the budget is spent, and the
// metrics move. A member with an email address still logs in with a mailed
// code. Before the fix every login sent its SMS (and sms.max_per_hour did
// not exist).
func SMSPumpingThroughManyAccountsHitsHourlyCeiling(t *testing.T, d e2e.Deployment) {
	const budget, accounts = 5, 7
	s, smtp, sms := smsServer(t, d, e2e.Options{Extra: "otp:\n  on_login: always\n",
		Env: []string{fmt.Sprintf("TSUBASA_SMS_MAX_PER_HOUR=%d", budget)}})
	for i := 1; i <= accounts; i++ {
		s.CLI(t, false, "member", "create", "--number", fmt.Sprintf("800000%d", i), "--password", e2e.MemberPass,
			"--family-name", "空野", "--phone", fmt.Sprintf("090-1111-%04d", i), "--country", "JP", "--locale", "ja")
	}
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")

	for i := 1; i <= accounts; i++ {
		b := e2e.NewBrowser(t, s)
		login := b.Get(t, rp.AuthURL(e2e.NewFlow()))
		page := b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)},
			"member_number": {fmt.Sprintf("800000%d", i)}, "password": {e2e.MemberPass}})
		msg := alertText(page.Body)
		switch {
		case page.URL.Path != "/login/otp":
			t.Fatalf("account %d: %d at %s", i, page.Status, page.URL)
		case i <= budget && (page.Status != http.StatusOK || msg != ""):
			t.Errorf("account %d, within the budget: status %d, message %q", i, page.Status, msg)
		case i > budget && (page.Status != http.StatusServiceUnavailable || !strings.Contains(msg, "ただいまSMSでコードをお送りできません")):
			t.Errorf("account %d, past the budget: status %d, message %q; want 503 saying SMS cannot be sent now", i, page.Status, msg)
		}
	}
	if got := len(sms.Requests()); got != budget {
		t.Fatalf("%d SMS reached the gateway from %d accounts, want the ceiling of %d", got, accounts, budget)
	}

	// Each process logs and counts what it saw: one of each log line on
	// one server, one to a replica on a cluster (the budget is shared,
	// the logs and counters are each replica's own).
	out, procs := s.Output(), s.Processes()
	if n := strings.Count(out, "sms budget nearly spent"); n < 1 || n > procs {
		t.Errorf("%d warnings at 80%% of the budget in the log of %d process(es), want 1 (at most one each)", n, procs)
	}
	if n := strings.Count(out, "sms budget spent"); n < 1 || n > procs {
		t.Errorf("%d budget-spent errors in the log of %d process(es) for %d refused SMS, want 1 (at most one each)", n, procs, accounts-budget)
	}
	metrics := fetchMetrics(t, s)
	for series, want := range map[string]int{
		"tsubasa_sms_sent_total":                     budget,
		`tsubasa_sms_refused_total{reason="budget"}`: accounts - budget,
	} {
		if got := sumSeries(metrics, series); got != want {
			t.Errorf("metrics: %s %d over %d process(es), want %d", series, got, procs, want)
		}
	}
	if got := sumSeries(metrics, "tsubasa_sms_budget_warnings_total"); got < 1 || got > procs {
		t.Errorf("metrics: tsubasa_sms_budget_warnings_total %d over %d process(es), want 1 (at most one each)", got, procs)
	}
	for _, m := range metrics { // every process reads the one budget
		for _, series := range []string{"tsubasa_sms_budget_used", "tsubasa_sms_budget_limit"} {
			if !strings.Contains(m, "\n"+series+fmt.Sprintf(" %d\n", budget)) {
				t.Errorf("metrics lack %s %d", series, budget)
			}
		}
	}

	// Email is not rationed: the test member logs in with a mailed code.
	b := e2e.NewBrowser(t, s)
	f := e2e.NewFlow()
	login := b.Get(t, rp.AuthURL(f))
	page := b.Post(t, login.URL, "/login", url.Values{"authRequestID": {login.AuthRequestID(t)},
		"member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if page.URL.Path != "/login/otp" || page.Status != http.StatusOK {
		t.Fatalf("member with email: %d at %s: %s", page.Status, page.URL, alertText(page.Body))
	}
	_, code := e2e.MailCode(t, smtp, 1)
	done := b.Post(t, page.URL, "/login/otp", url.Values{"authRequestID": {page.AuthRequestID(t)}, "otp": {code}})
	e2e.MustExchange(t, rp, f, e2e.Callback(t, done))
	if got := len(sms.Requests()); got != budget {
		t.Errorf("%d SMS at the gateway after the email login, want still %d", got, budget)
	}
}

// fetchMetrics reads /metrics of every process of s, from the management
// listeners (metrics.listen).
func fetchMetrics(t *testing.T, s *e2e.Server) []string {
	t.Helper()
	var out []string
	for _, u := range s.MetricsURLs() {
		resp, err := http.Get(u + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/metrics: %d", u, resp.StatusCode)
		}
		out = append(out, string(body))
	}
	return out
}

// sumSeries adds up the integer value of series (its name and labels as
// exposed) over the processes' metrics; a process without it counts 0.
func sumSeries(metrics []string, series string) int {
	sum := 0
	for _, m := range metrics {
		for line := range strings.Lines(m) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
				n, _ := strconv.Atoi(v)
				sum += n
			}
		}
	}
	return sum
}
