package attack

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify/notifytest"
)

// Member support sessions played as an attacker would: a caller posing as
// the member (vishing) wants an agent to reset the member's second factor
// or set a password, and the agent's system demands that the member read
// back a code sent to the member's own channel. The attacker guesses the
// code, offers a login code instead (or uses a support code to log in),
// reuses another member's or another agent's verified session, replays a
// verified session's code, calls without the support scope, and looks for
// the code in answers and logs.

const supportAgent = "agent-042"

// supportServer starts a server whose mail goes to a recording SMTP
// server, with the test member (mail hanako@example.com) and a second one;
// extra is appended to the config.
func supportServer(t *testing.T, extra string) (*e2e.Server, *notifytest.SMTPServer, string) {
	t.Helper()
	smtp := notifytest.NewSMTPServer(t)
	o := e2e.Options{Extra: extra}
	_, o.SMTPPort = smtp.Addr()
	s := e2e.StartWithMember(t, o)
	s.CLI(t, false, "member", "create", "--number", "7100002", "--password", "Sora-Umi-2026", "--family-name", "青空",
		"--email", "sora@example.com")
	return s, smtp, e2e.OpsToken(t, s)
}

// problemIs checks that a is the problem name with status.
func problemIs(t *testing.T, what string, a e2e.AdminAnswer, status int, name string) {
	t.Helper()
	if a.Status != status || !strings.Contains(string(a.Body), adminapi.ProblemBase+name) {
		t.Errorf("%s: %d %s, want %d %s", what, a.Status, a.Body, status, name)
	}
}

// tempPassword asks for a temporary password of number naming session.
func tempPassword(t *testing.T, s *e2e.Server, tok, number, session, agent string) e2e.AdminAnswer {
	t.Helper()
	return e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members/"+number+"/password", tok,
		fmt.Sprintf(`{"password":"Temporary-Kite-81","temporary":true,"support_session":%q}`, session), "X-Tsubasa-Agent", agent)
}

// TestAttackSupportCodeGuessing: guessing the six digits the member would
// read back is bounded per session (admin.support.max_attempts: the
// right code after the last wrong one is refused too, so a guesser cannot
// keep going) and per member across sessions (verify_per_hour: a new
// session does not buy new guesses). Without the bounds the right code
// would pass on the sixth or the eleventh try.
func TestAttackSupportCodeGuessing(t *testing.T) {
	s, smtp, tok := supportServer(t, "otp:\n  on_login: never\n  resend_interval: 1s\n")
	v := e2e.StartSupport(t, s, tok, e2e.MemberNumber, supportAgent)
	code := mailedCode(t, smtp, "hanako@example.com", 1)
	guess := wrongCodes(code)
	for i := range 4 {
		problemIs(t, fmt.Sprintf("wrong guess %d", i+1), e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, guess[i], supportAgent),
			http.StatusBadRequest, adminapi.ProblemSupportCodeInvalid)
	}
	problemIs(t, "the fifth wrong guess", e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, guess[4], supportAgent),
		http.StatusConflict, adminapi.ProblemSupportSessionEnded)
	problemIs(t, "the right code after the last attempt", e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, code, supportAgent),
		http.StatusConflict, adminapi.ProblemSupportSessionEnded)

	// A second session: five more entries reach the member's ten an hour.
	v2 := startSupportAfterInterval(t, s, tok, e2e.MemberNumber)
	code2 := mailedCode(t, smtp, "hanako@example.com", 2)
	for i := range 5 {
		e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v2.ID, wrongCodes(code2)[i], supportAgent)
	}
	v3 := startSupportAfterInterval(t, s, tok, e2e.MemberNumber)
	code3 := mailedCode(t, smtp, "hanako@example.com", 3)
	problemIs(t, "the right code of a third session past the member's hourly entries",
		e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v3.ID, code3, supportAgent), http.StatusTooManyRequests, adminapi.ProblemSupportLimited)
	problemIs(t, "a temporary password naming the unverified session", tempPassword(t, s, tok, e2e.MemberNumber, v3.ID, supportAgent),
		http.StatusForbidden, adminapi.ProblemSupportSessionRequired)
}

// startSupportAfterInterval starts a support session once the resend
// interval (otp.resend_interval 1s here) allows a new code.
func startSupportAfterInterval(t *testing.T, s *e2e.Server, tok, number string) adminapi.SupportSessionView {
	t.Helper()
	time.Sleep(1100 * time.Millisecond) // otp.resend_interval
	return e2e.StartSupport(t, s, tok, number, supportAgent)
}

// wrongCodes are five distinct six-digit codes other than code.
func wrongCodes(code string) []string {
	var out []string
	for d := byte('0'); len(out) < 5; d++ {
		c := strings.Repeat(string(d), 6)
		if c != code {
			out = append(out, c)
		}
	}
	return out
}

// TestAttackSupportAndLoginCodesAreNotInterchangeable: a login code the
// attacker obtained (say, forwarded by the member) does not verify a
// support session, and a support code the member read out to someone does
// not complete a login; each still opens what it was sent for. Were the
// purposes shared, either code would do for both.
func TestAttackSupportAndLoginCodesAreNotInterchangeable(t *testing.T) {
	s, smtp, tok := supportServer(t, "otp:\n  on_login: never\n")
	rp := e2e.NewRP(t, s, "web", webSecret)
	b := e2e.NewBrowser(t, s)
	page := otpLogin(t, rp, b, e2e.MemberNumber, e2e.MemberPass)
	login := mailedCode(t, smtp, "hanako@example.com", 1)
	v := e2e.StartSupport(t, s, tok, e2e.MemberNumber, supportAgent)
	support := mailedCode(t, smtp, "hanako@example.com", 2)
	if login == support {
		t.Skip("the two random codes are equal (one in a million): nothing to tell apart")
	}
	problemIs(t, "the login code as the support code", e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, login, supportAgent),
		http.StatusBadRequest, adminapi.ProblemSupportCodeInvalid)
	codeRefused(t, "the support code at the login", enterCode(t, b, page, support), msgWrongCode)
	codeAccepted(t, "the login code at the login", enterCode(t, b, page, login))
	if a := e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, support, supportAgent); a.Status != http.StatusOK {
		t.Errorf("the support code for its session: %d %s", a.Status, a.Body)
	}
}

// TestAttackSupportSessionOfAnotherMemberOrAgent: a session verified by
// one member (the attacker's own, or an accomplice's) does not allow a
// change to another member, is not found under another member, and does
// not serve another agent; a verified session's code does not verify it
// again. Without the binding, any verified session would open every
// member.
func TestAttackSupportSessionOfAnotherMemberOrAgent(t *testing.T) {
	s, smtp, tok := supportServer(t, "")
	v := e2e.StartSupport(t, s, tok, "7100002", supportAgent)
	code := mailedCode(t, smtp, "sora@example.com", 1)
	problemIs(t, "the session verified under another member's number",
		e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, code, supportAgent), http.StatusNotFound, adminapi.ProblemNotFound)
	problemIs(t, "the session verified by another agent",
		e2e.VerifySupport(t, s, tok, "7100002", v.ID, code, "agent-999"), http.StatusNotFound, adminapi.ProblemNotFound)
	if a := e2e.VerifySupport(t, s, tok, "7100002", v.ID, code, supportAgent); a.Status != http.StatusOK {
		t.Fatalf("the right code for its own member: %d %s", a.Status, a.Body)
	}
	problemIs(t, "the verified code entered again", e2e.VerifySupport(t, s, tok, "7100002", v.ID, code, supportAgent),
		http.StatusConflict, adminapi.ProblemSupportSessionEnded)
	problemIs(t, "another member's verified session for a temporary password", tempPassword(t, s, tok, e2e.MemberNumber, v.ID, supportAgent),
		http.StatusForbidden, adminapi.ProblemSupportSessionRequired)
	problemIs(t, "the verified session used by another agent", tempPassword(t, s, tok, "7100002", v.ID, "agent-999"),
		http.StatusForbidden, adminapi.ProblemSupportSessionRequired)
	for route, body := range map[string]string{
		"/passkeys:remove":        `{"support_session":"` + v.ID + `"}`,
		"/otp-destinations:reset": `{"email":true,"support_session":"` + v.ID + `"}`,
	} {
		a := e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members/"+e2e.MemberNumber+route, tok, body, "X-Tsubasa-Agent", supportAgent)
		problemIs(t, "another member's session for "+route, a, http.StatusForbidden, adminapi.ProblemSupportSessionRequired)
	}
	if a := tempPassword(t, s, tok, "7100002", v.ID, supportAgent); a.Status != http.StatusOK {
		t.Errorf("the verified session for its own member and agent: %d %s", a.Status, a.Body)
	}
}

// TestAttackSupportWithoutSupportScope: a system allowed to read and write
// members but not admin:members:support cannot start, read or verify a
// support session (and so cannot send members codes).
func TestAttackSupportWithoutSupportScope(t *testing.T) {
	s, smtp, _ := supportServer(t, "")
	tok := e2e.AdminToken(t, s, e2e.AdminClient, e2e.AdminSecret, adminapi.ScopeMembersRead, adminapi.ScopeMembersWrite)
	path := e2e.SupportPath(e2e.MemberNumber)
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, path, ""},
		{http.MethodGet, path + "/abc", ""},
		{http.MethodPost, path + "/abc/verify", `{"code":"123456"}`},
	} {
		a := e2e.AdminDo(t, s, c.method, c.path, tok, c.body, "X-Tsubasa-Agent", supportAgent)
		problemIs(t, c.method+" "+c.path+" without the scope", a, http.StatusForbidden, adminapi.ProblemInsufficientScope)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Errorf("%d mails sent without the support scope", n)
	}
}

// TestAttackSupportCodeNeverShown: no answer of the support routes, and no
// line of the server's log, carries the code the member got.
func TestAttackSupportCodeNeverShown(t *testing.T) {
	s, smtp, tok := supportServer(t, "")
	var answers []string
	start := e2e.AdminDo(t, s, http.MethodPost, e2e.SupportPath(e2e.MemberNumber), tok, "", "X-Tsubasa-Agent", supportAgent)
	var v adminapi.SupportSessionView
	start.JSON(t, &v)
	code := mailedCode(t, smtp, "hanako@example.com", 1)
	answers = append(answers, string(start.Body), fmt.Sprint(start.Header))
	show := e2e.AdminDo(t, s, http.MethodGet, e2e.SupportPath(e2e.MemberNumber)+"/"+v.ID, tok, "", "X-Tsubasa-Agent", supportAgent)
	wrong := e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, wrongCodes(code)[0], supportAgent)
	right := e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, code, supportAgent)
	again := e2e.VerifySupport(t, s, tok, e2e.MemberNumber, v.ID, code, supportAgent)
	if right.Status != http.StatusOK {
		t.Fatalf("the right code: %d %s", right.Status, right.Body)
	}
	events := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/members/"+e2e.MemberNumber+"/events?limit=100", tok, "")
	for _, a := range []e2e.AdminAnswer{show, wrong, right, again, events} {
		answers = append(answers, string(a.Body), fmt.Sprint(a.Header))
	}
	for i, a := range answers {
		if strings.Contains(a, code) {
			t.Errorf("answer %d carries the code: %s", i, a)
		}
	}
	if strings.Contains(s.Output(), code) {
		t.Error("the server log carries the support code")
	}
}
