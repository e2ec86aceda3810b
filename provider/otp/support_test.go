package otp

import (
	"strings"
	"testing"
)

// TestSupportCode: a support code goes to the member's verified channel in
// six digits, whatever the configured formats, with wording that tells the
// member to read it only to an agent on a call the member made; it is
// bound to its challenge, so a newer support code, or a login code, never
// passes for it, and a support code never passes as a login code.
func TestSupportCode(t *testing.T) {
	fx := newFixture(t, func(o *Options) {
		o.Formats = map[string]string{PurposeSupport: FormatPictogram}
	})
	ctx := t.Context()
	first := fx.issue(t, IssueRequest{Purpose: PurposeSupport, Channel: ChannelSMS, Locale: "en"})
	if first.Format != FormatDigits || first.Length != 6 || first.Purpose != PurposeSupport {
		t.Fatalf("support challenge = %+v, want six digits", first)
	}
	body := fx.sms.Delivered()[0].Body
	if !strings.Contains(body, "Support code") || !strings.Contains(body, "call YOU made") {
		t.Errorf("support SMS does not say to whom the code may be read: %q", body)
	}
	code := fx.codeFromSMS(t)

	// A support code is not a login code, even with a login challenge
	// outstanding.
	fx.issue(t, IssueRequest{Purpose: PurposeLogin, Channel: ChannelEmail, Locale: "en"})
	if _, err := fx.svc.Verify(ctx, hanako().ID, PurposeLogin, code, ""); err == nil {
		t.Fatal("a support code passed as a login code")
	}
	// Nor does the challenge pass under another id (a newer session's).
	_, err := fx.svc.VerifyChallenge(ctx, hanako().ID, PurposeSupport, "another-challenge", code, "")
	wantErr(t, err, ErrNoChallenge)

	fx.clock.Advance(fx.svc.o.ResendInterval)
	second := fx.issue(t, IssueRequest{Purpose: PurposeSupport, Locale: "ja"})
	m := fx.lastMail(t, 1)
	if !strings.Contains(m.Text, "本人確認コード") || !strings.Contains(m.Text, "おかけになったお電話") ||
		!strings.Contains(m.HTML, "突然かかってきた電話") {
		t.Errorf("support mail lacks its warning:\n%s", m.Text)
	}
	newest := fx.codeFromMail(t)
	// The first session's challenge was replaced: its own code, or the
	// newest code, no longer verifies it.
	for _, c := range []string{code, newest} {
		_, err = fx.svc.VerifyChallenge(ctx, hanako().ID, PurposeSupport, first.ID, c, "")
		wantErr(t, err, ErrNoChallenge)
	}
	// A login code is not a support code.
	fx.clock.Advance(fx.svc.o.ResendInterval)
	fx.issue(t, IssueRequest{Purpose: PurposeLogin, Channel: ChannelEmail, Locale: "en"})
	login := fx.codeFromMail(t)
	if login == newest {
		t.Skip("the login code equals the support code by chance (one in a million); nothing to tell apart")
	}
	if _, err := fx.svc.VerifyChallenge(ctx, hanako().ID, PurposeSupport, second.ID, login, ""); err == nil {
		t.Fatal("a login code passed as a support code")
	}
	got, err := fx.svc.VerifyChallenge(ctx, hanako().ID, PurposeSupport, second.ID, newest, "")
	if err != nil || got.ID != second.ID || !got.Consumed {
		t.Fatalf("the right support code: %+v %v", got, err)
	}
	_, err = fx.svc.VerifyChallenge(ctx, hanako().ID, PurposeSupport, second.ID, newest, "")
	wantErr(t, err, ErrConsumed)
	for _, l := range []string{fx.logs.String()} {
		if strings.Contains(l, code) || strings.Contains(l, newest) {
			t.Error("a support code reached the log")
		}
	}
}
