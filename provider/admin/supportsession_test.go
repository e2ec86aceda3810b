package admin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"tsubasa/provider"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/provider/notify/notifytest"
	"tsubasa/provider/otp"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/storagetest"
)

// supportFixture is the operations with support sessions on, an OTP
// service mailing a recording SMTP server, one clock for both, and a
// member with a verified address.
type supportFixture struct {
	svc   *Service
	store *bolt.Store
	smtp  *notifytest.SMTPServer
	clock *storagetest.Clock
	ctx   context.Context // an HTTP API caller: client ops, agent a1
}

func newSupportFixture(t *testing.T) *supportFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tsubasa.db"), bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx := &supportFixture{store: st, smtp: notifytest.NewSMTPServer(t), clock: storagetest.NewClock(time.Now())}
	host, port := fx.smtp.Addr()
	mailer, err := notify.NewSMTPMailer(notify.SMTPOptions{Host: host, Port: port, TLS: notify.TLSNone, From: "t@example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := notify.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	o, err := otp.NewService(st, mailer, nil, r, otp.Options{HMACKey: bytes.Repeat([]byte{1}, 32), Now: fx.clock.Now, ResendInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := member.NewHasher(member.HashOptions{MemoryKiB: 8192, Iterations: 1, Parallelism: 1})
	reg, err := provider.NewClientRegistry(nil, st, make([]byte, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	fx.svc, err = New(Options{
		Store: st, Members: member.NewService(st, h, member.Options{Logger: slog.New(slog.DiscardHandler)}),
		Clients: reg, CheckClient: asIs, CursorKey: bytes.Repeat([]byte{2}, 32), Logger: slog.New(slog.DiscardHandler),
		RotateKeys: func(context.Context) ([]storage.SigningKey, error) { return nil, errors.New("no keys here") },
		OTP:        o, Support: SupportOptions{Require: true}, Now: fx.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.svc.createMember(t.Context(), adminapi.MemberInput{Number: "1234567", Password: "Blue-Sky-Flight-88",
		FamilyNameLatin: "Yamada", Email: "hanako@example.com"}); err != nil {
		t.Fatal(err)
	}
	fx.ctx, _ = WithCaller(t.Context(), Caller{ClientID: "ops", Agent: "a1"})
	return fx
}

var mailedDigits = regexp.MustCompile(`(?m)^(\d{6})\s*$`)

// start starts a session and returns it with the code mailed for it.
func (fx *supportFixture) start(t *testing.T) (adminapi.SupportSessionView, string) {
	t.Helper()
	v, err := fx.svc.startSupport(fx.ctx, adminapi.SupportStartInput{Number: "1234567"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fx.smtp.Messages()
	return v, mailedDigits.FindStringSubmatch(msgs[len(msgs)-1].Text)[1]
}

func (fx *supportFixture) verify(v adminapi.SupportSessionView, code string) (adminapi.SupportSessionView, error) {
	return fx.svc.verifySupport(fx.ctx, adminapi.SupportVerifyInput{Number: "1234567", ID: v.ID, Code: code})
}

func (fx *supportFixture) password(ctx context.Context, session string) error {
	_, err := fx.svc.setMemberPassword(ctx, adminapi.PasswordInput{Number: "1234567", Password: "Temporary-Kite-81", Temporary: true, SupportSession: session})
	return err
}

// problem fails unless err is the admin API problem name.
func problem(t *testing.T, what string, err error, name string) {
	t.Helper()
	var ae *adminapi.Error
	if !errors.As(err, &ae) || adminapi.ProblemFor(ae) != name {
		t.Errorf("%s: %v, want problem %s", what, err, name)
	}
}

// TestSupportSessionLifetimes: a verified session allows the change only
// within admin.support.verified_for, and its lapse is recorded; a pending
// session's code ends with otp.ttl; a newer session's code replaces an
// older session's, whose own code then fails it. The admin socket's
// operator (no client) is never asked for a session.
func TestSupportSessionLifetimes(t *testing.T) {
	fx := newSupportFixture(t)
	if _, err := fx.svc.setMemberPassword(t.Context(), adminapi.PasswordInput{Number: "1234567", Password: "Socket-Set-Kite-55"}); err != nil {
		t.Errorf("the admin socket's operator was asked for a support session: %v", err)
	}
	problem(t, "no session", fx.password(fx.ctx, ""), adminapi.ProblemSupportSessionRequired)

	v, code := fx.start(t)
	problem(t, "a pending session", fx.password(fx.ctx, v.ID), adminapi.ProblemSupportSessionRequired)
	if v, err := fx.verify(v, code); err != nil || v.State != adminapi.SupportVerified {
		t.Fatalf("verify: %+v %v", v, err)
	}
	fx.clock.Advance(15*time.Minute - time.Second)
	if err := fx.password(fx.ctx, v.ID); err != nil {
		t.Errorf("within the verified window: %v", err)
	}
	fx.clock.Advance(time.Second)
	problem(t, "past the verified window", fx.password(fx.ctx, v.ID), adminapi.ProblemSupportSessionRequired)
	if got, _ := fx.svc.showSupport(fx.ctx, adminapi.SupportSessionInput{Number: "1234567", ID: v.ID}); got.State != adminapi.SupportExpired {
		t.Errorf("a lapsed session shows as %q", got.State)
	}

	pending, code := fx.start(t)
	fx.clock.Advance(10 * time.Minute)
	_, err := fx.verify(pending, code)
	problem(t, "the right code past otp.ttl", err, adminapi.ProblemSupportSessionEnded)

	older, olderCode := fx.start(t)
	fx.clock.Advance(time.Second)
	newer, newerCode := fx.start(t)
	_, err = fx.verify(older, newerCode)
	problem(t, "the newer session's code for the older session", err, adminapi.ProblemSupportSessionEnded)
	_, err = fx.verify(older, olderCode)
	problem(t, "the older session's own code after it was replaced", err, adminapi.ProblemSupportSessionEnded)
	if _, err := fx.verify(newer, newerCode); err != nil {
		t.Errorf("the newer session's code: %v", err)
	}

	evs, err := fx.store.ListEvents(t.Context(), mustMember(t, fx).ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, e := range evs {
		if e.Type == EventSupportExpired && e.ClientID == "ops" && e.Detail["agent"] == "a1" {
			expired++
		}
	}
	if expired != 2 { // the lapsed window, the code past its lifetime
		t.Errorf("%d support.expired events naming client and agent, want 2", expired)
	}
	var ae *adminapi.Error
	if errors.As(fx.password(fx.ctx, "nope"), &ae); ae == nil || ae.Status != http.StatusForbidden {
		t.Errorf("an unknown session: %v", ae)
	}
}

func mustMember(t *testing.T, fx *supportFixture) storage.Member {
	t.Helper()
	m, err := fx.store.MemberByNumber(t.Context(), "1234567")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
