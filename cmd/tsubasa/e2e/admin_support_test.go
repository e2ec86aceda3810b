package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify/notifytest"
)

// TestAdminSupportSessionByMail: a call centre's system, with its own
// client_credentials token, is refused a temporary password until the
// member proves to be on the line: a support session mails the member a
// code (worded for reading back to an agent, never to a caller), the
// answer shows where it went, masked, and never the code; a wrong entry
// is refused with the entries left, the right one verifies the session,
// and the password set naming it then works. Every step is audited under
// the member, naming the client and the agent.
func TestAdminSupportSessionByMail(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	o := Options{}
	_, o.SMTPPort = smtp.Addr()
	s := StartWithMember(t, o)
	tok := OpsToken(t, s)
	const agent = "agent-042"
	pw := AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+"/password", tok,
		`{"password":"Temporary-Kite-81","temporary":true}`, "X-Tsubasa-Agent", agent)
	if p := pw.Problem(t); pw.Status != http.StatusForbidden || p.Type != adminapi.ProblemBase+adminapi.ProblemSupportSessionRequired ||
		p.Field != "support_session" {
		t.Fatalf("a temporary password without a support session: %d %s", pw.Status, pw.Body)
	}

	a := AdminDo(t, s, http.MethodPost, SupportPath(MemberNumber), tok, "", "X-Tsubasa-Agent", agent)
	var v adminapi.SupportSessionView
	a.JSON(t, &v)
	if a.Status != http.StatusCreated || v.State != adminapi.SupportPending || v.Channel != "email" ||
		v.Destination != "h***@example.com" || v.Agent != agent || v.AttemptsLeft != 5 {
		t.Fatalf("support session: %d %s", a.Status, a.Body)
	}
	if got := a.Header.Get("Location"); got != SupportPath(MemberNumber)+"/"+v.ID {
		t.Errorf("Location %q", got)
	}
	if d := v.ExpiresAt.Sub(v.CreatedAt).Round(time.Second); d != 10*time.Minute {
		t.Errorf("the code lasts %s, want 10m", d)
	}
	mail, code := MailCode(t, smtp, 1)
	if !strings.Contains(mail.Text, "本人確認コード") || !strings.Contains(mail.Text, "突然かかってきた電話") {
		t.Errorf("the support mail does not warn against unsolicited callers:\n%s", mail.Text)
	}
	if strings.Contains(string(a.Body), code) {
		t.Fatal("the answer carries the code")
	}

	wrong := VerifySupport(t, s, tok, MemberNumber, v.ID, otherCode(code), agent)
	if p := wrong.Problem(t); wrong.Status != http.StatusBadRequest || p.Type != adminapi.ProblemBase+adminapi.ProblemSupportCodeInvalid ||
		!strings.Contains(p.Detail, "4 entries left") {
		t.Errorf("a wrong code: %d %s", wrong.Status, wrong.Body)
	}
	ok := VerifySupport(t, s, tok, MemberNumber, v.ID, code, agent)
	ok.JSON(t, &v)
	if ok.Status != http.StatusOK || v.State != adminapi.SupportVerified || !v.VerifiedUntil.After(time.Now()) {
		t.Fatalf("the right code: %d %s", ok.Status, ok.Body)
	}
	pw = AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+"/password", tok,
		`{"password":"Temporary-Kite-81","temporary":true,"support_session":"`+v.ID+`"}`, "X-Tsubasa-Agent", agent)
	if pw.Status != http.StatusOK {
		t.Fatalf("a temporary password with the verified session: %d %s", pw.Status, pw.Body)
	}

	var evs adminapi.EventsOutput
	AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/events?limit=100", tok, "").JSON(t, &evs)
	seen := map[string]bool{}
	for _, e := range evs.Events {
		if strings.HasPrefix(e.Type, "support.") && e.ClientID == AdminClient && e.Detail["agent"] == agent &&
			e.Detail["support_session"] == v.ID {
			seen[e.Type] = true
		}
	}
	for _, want := range []string{"support.started", "support.failed", "support.verified"} {
		if !seen[want] {
			t.Errorf("no %s event naming the client, the agent and the session; saw %v", want, seen)
		}
	}
}

// TestAdminSupportSessionBySMS: a member whose only verified channel is a
// mobile number gets the support code by SMS (through the SMS webhook and
// its guard), worded for reading back to an agent; the number is shown
// masked; the verified session then allows removing the member's
// passkeys and resetting their one-time password destinations.
func TestAdminSupportSessionBySMS(t *testing.T) {
	sms := notifytest.NewSMSWebhook(t)
	s := Start(t, Options{SMSURL: sms.URL()})
	s.CLI(t, false, "member", "create", "--number", "2345678", "--password", MemberPass,
		"--family-name", "空野", "--phone", "+819012345678", "--country", "JP", "--locale", "en")
	tok := OpsToken(t, s)
	v := StartSupport(t, s, tok, "2345678", "agent-7")
	if v.Channel != "sms" || v.Destination != "+81 90-****-5678" {
		t.Fatalf("support session by SMS: %+v", v)
	}
	got := sms.Delivered()
	if len(got) != 1 || got[0].To != "+819012345678" || !strings.Contains(got[0].Body, "call YOU made") {
		t.Fatalf("support SMS: %+v", got)
	}
	code := smsRe.FindStringSubmatch(got[0].Body)[1]
	if a := VerifySupport(t, s, tok, "2345678", v.ID, code, "agent-7"); a.Status != http.StatusOK {
		t.Fatalf("the right code: %d %s", a.Status, a.Body)
	}
	with := `"support_session":"` + v.ID + `"`
	if a := AdminDo(t, s, http.MethodPost, membersPath+"2345678/passkeys:remove", tok, "{"+with+"}", "X-Tsubasa-Agent", "agent-7"); a.Status != http.StatusOK {
		t.Errorf("removing passkeys with the session: %d %s", a.Status, a.Body)
	}
	if a := AdminDo(t, s, http.MethodPost, membersPath+"2345678/otp-destinations:reset", tok, `{"phone":true,`+with+"}",
		"X-Tsubasa-Agent", "agent-7"); a.Status != http.StatusOK {
		t.Errorf("resetting the OTP destinations with the session: %d %s", a.Status, a.Body)
	}
}

// otherCode is a six-digit code that differs from code.
func otherCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestAdminSupportSessionAcrossReplicas: with two replicas on one
// PostgreSQL behind no sticky balancer, a session started on one is
// verified on the other, its wrong entries are counted together whichever
// replica takes them (the fifth, on either, ends it), its code verifies
// it once on either, and the verified session allows the change on both.
func TestAdminSupportSessionAcrossReplicas(t *testing.T) {
	db := PostgresURL(t)
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Postgres: db, Extra: "otp:\n  on_login: never\n  resend_interval: 1s\n"}
	_, o.SMTPPort = smtp.Addr()
	a := StartWithMember(t, o)
	o.Env = []string{"TSUBASA_ISSUER=" + a.Issuer}
	b := Start(t, o)
	tok := OpsToken(t, a)
	const agent = "agent-9"
	v := StartSupport(t, a, tok, MemberNumber, agent)
	_, code := MailCode(t, smtp, 1)
	for i, s := range []*Server{b, a, b, a} {
		if w := VerifySupport(t, s, tok, MemberNumber, v.ID, wrongDigits(code, i), agent); w.Status != http.StatusBadRequest {
			t.Fatalf("wrong entry %d: %d %s", i+1, w.Status, w.Body)
		}
	}
	if w := VerifySupport(t, b, tok, MemberNumber, v.ID, wrongDigits(code, 4), agent); w.Status != http.StatusConflict {
		t.Errorf("the fifth wrong entry, after four on two replicas: %d %s", w.Status, w.Body)
	}
	if w := VerifySupport(t, a, tok, MemberNumber, v.ID, code, agent); w.Status != http.StatusConflict {
		t.Errorf("the right code after five wrong entries on two replicas, with five allowed: %d %s", w.Status, w.Body)
	}

	time.Sleep(1100 * time.Millisecond) // otp.resend_interval
	v = StartSupport(t, b, tok, MemberNumber, agent)
	_, code = MailCode(t, smtp, 2)
	if ok := VerifySupport(t, a, tok, MemberNumber, v.ID, code, agent); ok.Status != http.StatusOK {
		t.Fatalf("the code on the other replica: %d %s", ok.Status, ok.Body)
	}
	if again := VerifySupport(t, b, tok, MemberNumber, v.ID, code, agent); again.Status != http.StatusConflict {
		t.Errorf("the code again on the first replica: %d %s", again.Status, again.Body)
	}
	for i, s := range []*Server{a, b} {
		body := `{"password":"Temporary-Kite-8` + string(rune('1'+i)) + `","temporary":true,"support_session":"` + v.ID + `"}`
		if pw := AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+"/password", tok, body, "X-Tsubasa-Agent", agent); pw.Status != http.StatusOK {
			t.Errorf("a temporary password on replica %d: %d %s", i, pw.Status, pw.Body)
		}
	}
}

// wrongDigits is the i-th of several distinct six-digit codes other than
// code.
func wrongDigits(code string, i int) string {
	c := strings.Repeat(string(rune('0'+i)), 6)
	if c == code {
		c = strings.Repeat("9", 6)
	}
	return c
}
