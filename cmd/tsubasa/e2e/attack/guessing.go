package attack

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"

	"tsubasa/cmd/tsubasa/e2e"
)

// Guessing attacks on the login: brute force from "many addresses" (all
// test traffic comes from 127.0.0.1, so only a forwarding header could make
// it look otherwise, and the server must not trust one), and telling
// members apart by the answer or by its timing.

// A member who still holds only the legacy telephone PIN.
const (
	pinMember = "8888888"
	pinValue  = "135790"
)

// spoofedAddr makes attempt i look like it came from its own address to a
// server that trusted forwarding headers.
func spoofedAddr(i int) map[string]string {
	ip := fmt.Sprintf("203.0.113.%d", i%250+1)
	return map[string]string{"X-Forwarded-For": ip, "X-Real-IP": ip, "Forwarded": "for=" + ip,
		"True-Client-IP": ip, "CF-Connecting-IP": ip}
}

// bruteAttempt submits one login in a fresh browser with extra headers.
func bruteAttempt(t *testing.T, s *e2e.Server, rp *e2e.RP, number, secret string, hdr map[string]string) (e2e.Page, *http.Response) {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	form := url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {number}, "password": {secret}}
	req := e2e.NewFormRequest(t.Context(), s.Issuer+"/login", form.Encode())
	req.Header.Set("Origin", s.Issuer)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return e2e.PageOf(resp), resp
}

// failureText is the page's error message.
func failureText(p e2e.Page) string {
	i := strings.Index(p.Body, `role="alert"`)
	if i < 0 {
		return ""
	}
	rest := p.Body[i:]
	if j := strings.Index(rest, "</div>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// BruteForceAcrossAddresses: per-member limits hold whatever
// forwarding headers say, and the per-address limit is not escaped by them
// either. Covers the web password, the telephone PIN and one-time passwords.
func BruteForceAcrossAddresses(t *testing.T, d e2e.Deployment) {
	mail := notifytest.NewSMTPServer(t)
	_, port := mail.Addr()
	s := d.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: "lockout:\n  per_ip_max_failures: 12\n"})
	s.CLI(t, false, "member", "create", "--number", "1000011", "--password", "Umi-Yama-2026", "--family-name", "青木")
	s.CLI(t, false, "member", "create", "--number", pinMember, "--pin", pinValue, "--family-name", "佐藤")
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")

	t.Run("password per member", func(t *testing.T) {
		for i := range 5 {
			if p, _ := bruteAttempt(t, s, rp, e2e.MemberNumber, "Wrong-pass-2026", spoofedAddr(i)); p.Status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: status %d", i+1, p.Status)
			}
		}
		p, resp := bruteAttempt(t, s, rp, e2e.MemberNumber, e2e.MemberPass, spoofedAddr(99))
		if p.Status != http.StatusTooManyRequests || p.Location != "" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("right password from a 'new address' after 5 failures: status %d, Location %q; want 429 with Retry-After",
				p.Status, p.Location)
		}
	})
	t.Run("per address", func(t *testing.T) {
		limited := false
		for i := 0; i < 20 && !limited; i++ {
			p, _ := bruteAttempt(t, s, rp, fmt.Sprint(3100000+i), "Wrong-pass-2026", spoofedAddr(100+i))
			limited = p.Status == http.StatusTooManyRequests
		}
		if !limited {
			t.Fatal("20 failures from one address (each claiming another) never met the per-address limit of 12")
		}
		if p, _ := bruteAttempt(t, s, rp, "1000011", "Umi-Yama-2026", spoofedAddr(200)); p.Status != http.StatusTooManyRequests {
			t.Errorf("a fresh member from the limited address (claiming another): status %d, want 429", p.Status)
		}
	})
	t.Run("telephone PIN", func(t *testing.T) {
		tok := e2e.TelephoneToken(t, s)
		for i := range 5 {
			body := fmt.Sprintf(`{"member_number":%q,"pin":"%06d"}`, pinMember, i)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/api/telephone/verify", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			for k, v := range spoofedAddr(300 + i) {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if r := e2e.VerifyPIN(t, s, tok, pinMember, pinValue); r.Result != "locked" {
			t.Errorf("right PIN after 5 wrong ones from 'different addresses': %+v, want locked", r)
		}
	})
}

var bruteOTPRe = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)

// OTPBruteForce: a code is void after max_attempts wrong entries,
// whatever address each claims to come from, and the right code then
// opens nothing.
func OTPBruteForce(t *testing.T, d e2e.Deployment) {
	mail := notifytest.NewSMTPServer(t)
	_, port := mail.Addr()
	s := d.StartWithMember(t, e2e.Options{SMTPPort: port, Extra: "otp:\n  on_login: always\n  max_attempts: 3\n"})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	b := e2e.NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	page := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {e2e.MemberNumber}, "password": {e2e.MemberPass}})
	if page.URL.Path != "/login/otp" {
		t.Fatalf("no one-time password step after the password with otp.on_login: always (at %s, status %d)", page.URL, page.Status)
	}
	m := mail.WaitFor(t, func(m notifytest.ReceivedMail) bool {
		return slices.Contains(m.To, "hanako@example.com") && bruteOTPRe.MatchString(m.Text)
	}, 20*time.Second)
	code := bruteOTPRe.FindStringSubmatch(m.Text)[1]
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	post := func(otp string, i int) e2e.Page {
		form := url.Values{"authRequestID": {page.AuthRequestID(t)}, "otp": {otp}}
		req := e2e.NewFormRequest(t.Context(), s.Issuer+"/login/otp", form.Encode())
		req.Header.Set("Origin", s.Issuer)
		for k, v := range spoofedAddr(i) {
			req.Header.Set(k, v)
		}
		return b.Send(t, req)
	}
	for i := range 3 {
		if r := post(wrong, i); r.Location != "" || r.Status < 400 {
			t.Fatalf("wrong code %d: status %d, Location %q", i+1, r.Status, r.Location)
		}
	}
	if r := post(code, 50); strings.HasPrefix(r.Location, s.Issuer+"/rp/") || r.Status < 400 {
		t.Errorf("the right code after max_attempts wrong ones: status %d, Location %q; want it refused", r.Status, r.Location)
	}
}

// EnumerationByMessage: the answer to a wrong secret does not
// tell whether the number exists, for PIN-shaped secrets (against a
// password member, a PIN member and nobody, before and after the web PIN
// cutover) and once the attempts are throttled.
func EnumerationByMessage(t *testing.T, d e2e.Deployment) {
	s := d.StartWithMember(t, e2e.Options{})
	s.CLI(t, false, "member", "create", "--number", pinMember, "--pin", pinValue, "--family-name", "山田")
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	same := func(what string, status int, numbers []string, secret string) {
		t.Helper()
		var texts []string
		for _, n := range numbers {
			p, _ := bruteAttempt(t, s, rp, n, secret, nil)
			if p.Status != status || p.Location != "" {
				t.Errorf("%s, number %s: status %d Location %q, want %d", what, n, p.Status, p.Location, status)
			}
			texts = append(texts, failureText(p))
		}
		for _, txt := range texts[1:] {
			if txt != texts[0] || txt == "" {
				t.Errorf("%s: the answers differ, which tells members apart:\n%s", what, strings.Join(texts, "\n"))
				return
			}
		}
	}
	same("PIN-shaped wrong secret", http.StatusUnauthorized, []string{e2e.MemberNumber, pinMember, "1111111"}, "024680")

	// Lock a member and an unknown number alike, then compare.
	for range 5 {
		bruteAttempt(t, s, rp, e2e.MemberNumber, "Wrong-pass-2026", nil)
		bruteAttempt(t, s, rp, "2222222", "Wrong-pass-2026", nil)
	}
	same("throttled", http.StatusTooManyRequests, []string{e2e.MemberNumber, "2222222"}, "Wrong-pass-2026")

	after := d.Start(t, e2e.Options{PINUntil: "2021-10-19"})
	after.CLI(t, false, "member", "create", "--number", pinMember, "--pin", pinValue, "--family-name", "山田")
	after.CLI(t, false, "member", "create", "--number", e2e.MemberNumber, "--password", e2e.MemberPass, "--family-name", "空野")
	s, rp = after, e2e.NewRP(t, after, "web", "web-secret-0123456789")
	same("PIN-shaped secret after the cutover", http.StatusUnauthorized, []string{e2e.MemberNumber, pinMember, "1111111"}, "024680")
}

// EnumerationByTiming compares the median answer times of
// wrong passwords for an existing member and for unknown numbers: failure
// padding must make them alike. The bound is generous (a factor of two
// either way) so a loaded machine does not fail it; a missing padding
// (a hash skipped for unknown numbers) shows as a far larger factor.
func EnumerationByTiming(t *testing.T, d e2e.Deployment) {
	if testing.Short() {
		t.Skip("timing comparison: skipped with -short")
	}
	s := d.StartWithMember(t, e2e.Options{Extra: "lockout:\n  max_failures: 1000\n  per_ip_max_failures: 10000\n"})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	b := e2e.NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(e2e.NewFlow()))
	id := p.AuthRequestID(t)
	timeOne := func(number string) time.Duration {
		start := time.Now()
		res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {id}, "member_number": {number}, "password": {"Wrong-pass-2026"}})
		d := time.Since(start)
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("number %s: status %d", number, res.Status)
		}
		return d
	}
	for i := range 3 { // warm up: the padding learns from known failures
		timeOne(e2e.MemberNumber)
		timeOne(fmt.Sprint(4000000 + i))
	}
	var known, unknown []time.Duration
	for i := range 15 { // interleaved, so drift in the machine's load hits both
		known = append(known, timeOne(e2e.MemberNumber))
		unknown = append(unknown, timeOne(fmt.Sprint(4100000+i)))
	}
	k, u := medianDuration(known), medianDuration(unknown)
	ratio := float64(u) / float64(k)
	t.Logf("median wrong-password answer: known member %v, unknown number %v (ratio %.2f)", k, u, ratio)
	if ratio < 0.5 || ratio > 2.0 {
		t.Errorf("unknown/known median answer time ratio %.2f outside [0.5, 2]: timing tells members apart", ratio)
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
