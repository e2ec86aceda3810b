package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"
)

const jaSubject = "[Tsubasa]新しいご利用環境からログインがありました/Login from new device"

func testMessage(to string) Message {
	return Message{
		To:      to,
		Subject: jaSubject,
		Text:    "ワンタイムパスワード: 123456\n",
		HTML:    "<p>ワンタイムパスワード: <b>123456</b></p>\n",
		Purpose: "otp",
		Locale:  "ja",
	}
}

func mailerFor(t *testing.T, srv *notifytest.SMTPServer, mod func(*SMTPOptions)) *SMTPMailer {
	t.Helper()
	host, port := srv.Addr()
	opts := SMTPOptions{Host: host, Port: port, TLS: TLSNone, From: "Tsubasa <no-reply@example.com>", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	m, err := NewSMTPMailer(opts)
	if err != nil {
		t.Fatalf("NewSMTPMailer: %v", err)
	}
	return m
}

func TestSMTPMailerSend(t *testing.T) {
	serverTLS, roots := notifytest.SelfSignedTLS(t)
	trust := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		name     string
		server   []notifytest.Option
		mod      func(*SMTPOptions)
		wantTLS  bool
		wantUser string
	}{
		{name: "plain", mod: nil},
		{name: "plain with auth on loopback",
			server: []notifytest.Option{notifytest.WithAuth("relay", "s3cret")},
			mod:    func(o *SMTPOptions) { o.Username, o.Password = "relay", "s3cret" }, wantUser: "relay"},
		{name: "starttls",
			server: []notifytest.Option{notifytest.WithSTARTTLS(serverTLS), notifytest.WithAuth("relay", "s3cret")},
			mod: func(o *SMTPOptions) {
				o.TLS, o.TLSConfig, o.Username, o.Password = TLSStartTLS, trust, "relay", "s3cret"
			},
			wantTLS: true, wantUser: "relay"},
		{name: "implicit tls",
			server: []notifytest.Option{notifytest.WithImplicitTLS(serverTLS), notifytest.WithAuth("relay", "s3cret")},
			mod: func(o *SMTPOptions) {
				o.TLS, o.TLSConfig, o.Username, o.Password = TLSImplicit, trust, "relay", "s3cret"
			},
			wantTLS: true, wantUser: "relay"},
		{name: "helo name", mod: func(o *SMTPOptions) { o.HeloName = "mail.tsubasa.test" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := notifytest.NewSMTPServer(t, tc.server...)
			m := mailerFor(t, srv, tc.mod)
			if err := m.Send(t.Context(), testMessage("member@example.com")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.WaitFor(t, func(notifytest.ReceivedMail) bool { return true }, 5*time.Second)
			if got.Subject != jaSubject {
				t.Errorf("subject = %q, want %q", got.Subject, jaSubject)
			}
			if !strings.Contains(got.Text, "123456") || !strings.Contains(got.HTML, "<b>123456</b>") {
				t.Errorf("bodies: text %q html %q", got.Text, got.HTML)
			}
			if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
				t.Errorf("Content-Type = %q", ct)
			}
			if got.From != "no-reply@example.com" || len(got.To) != 1 || got.To[0] != "member@example.com" {
				t.Errorf("envelope from %q to %v", got.From, got.To)
			}
			if got.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", got.Header.Get("Auto-Submitted"))
			}
			if got.TLS != tc.wantTLS || got.AuthUser != tc.wantUser {
				t.Errorf("tls %v user %q, want %v %q", got.TLS, got.AuthUser, tc.wantTLS, tc.wantUser)
			}
		})
	}
}

// TestSMTPMailerAcceptedThenCut: a connection cut after the server has
// accepted the message (its 250 to DATA), while the session is ended, is
// no failure: the message was delivered, and a retry would deliver it
// twice.
func TestSMTPMailerAcceptedThenCut(t *testing.T) {
	srv := notifytest.NewSMTPServer(t)
	srv.DropAfterAccept(true)
	if err := mailerFor(t, srv, nil).Send(t.Context(), testMessage("hanako@example.com")); err != nil {
		t.Errorf("Send after the message was accepted: %v, want nil", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages received, want 1", n)
	}
}

func TestSMTPMailerSingleBody(t *testing.T) {
	srv := notifytest.NewSMTPServer(t)
	m := mailerFor(t, srv, nil)
	msg := testMessage("a@example.com")
	msg.HTML = ""
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, func(notifytest.ReceivedMail) bool { return true }, 5*time.Second)
	if got.HTML != "" || !strings.Contains(got.Text, "123456") {
		t.Errorf("text %q html %q", got.Text, got.HTML)
	}
}

func TestSMTPMailerFailures(t *testing.T) {
	serverTLS, _ := notifytest.SelfSignedTLS(t)
	for _, tc := range []struct {
		name      string
		server    []notifytest.Option
		setup     func(*notifytest.SMTPServer)
		mod       func(*SMTPOptions)
		msg       func(Message) Message
		permanent bool
	}{
		{name: "recipient rejected 550", setup: func(s *notifytest.SMTPServer) { s.RejectRecipients(550, "no such user") }, permanent: true},
		{name: "recipient deferred 451", setup: func(s *notifytest.SMTPServer) { s.RejectRecipients(451, "try later") }},
		{name: "server down", setup: func(s *notifytest.SMTPServer) { s.Stop() }},
		{name: "untrusted certificate", server: []notifytest.Option{notifytest.WithSTARTTLS(serverTLS)},
			mod: func(o *SMTPOptions) { o.TLS = TLSStartTLS }},
		{name: "starttls not offered", mod: func(o *SMTPOptions) { o.TLS = TLSStartTLS }},
		{name: "wrong password", server: []notifytest.Option{notifytest.WithAuth("relay", "right")},
			mod: func(o *SMTPOptions) { o.Username, o.Password = "relay", "wrong" }},
		{name: "bad recipient", msg: func(m Message) Message { m.To = "not an address"; return m }, permanent: true},
		{name: "no body", msg: func(m Message) Message { m.Text, m.HTML = "", ""; return m }, permanent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := notifytest.NewSMTPServer(t, tc.server...)
			if tc.setup != nil {
				tc.setup(srv)
			}
			m := mailerFor(t, srv, tc.mod)
			msg := testMessage("member@example.com")
			if tc.msg != nil {
				msg = tc.msg(msg)
			}
			err := m.Send(t.Context(), msg)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			t.Logf("error: %v", err)
			if IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v (err %v)", IsPermanent(err), tc.permanent, err)
			}
			if strings.Contains(err.Error(), "123456") {
				t.Errorf("error leaks the body: %v", err)
			}
		})
	}
}

func TestSMTPMailerSlowServerHonoursContext(t *testing.T) {
	srv := notifytest.NewSMTPServer(t)
	srv.SetDelay(time.Minute)
	m := mailerFor(t, srv, func(o *SMTPOptions) { o.Timeout = time.Minute })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := m.Send(ctx, testMessage("member@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if IsPermanent(err) {
		t.Error("a timeout must be temporary")
	}
	// Generous bound: the point is that it did not wait for the minute.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Send took %v", d)
	}
}

func TestSMTPMailerConcurrent(t *testing.T) {
	srv := notifytest.NewSMTPServer(t)
	m := mailerFor(t, srv, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			errs <- m.Send(t.Context(), testMessage(fmt.Sprintf("m%d@example.com", i)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(srv.Messages()); n != 8 {
		t.Errorf("received %d, want 8", n)
	}
}

func TestNewSMTPMailerOptions(t *testing.T) {
	base := SMTPOptions{Host: "smtp.example.com", From: "no-reply@example.com"}
	for _, tc := range []struct {
		name     string
		mod      func(*SMTPOptions)
		wantErr  string
		wantPort int
	}{
		{name: "defaults to starttls on 587", wantPort: 587},
		{name: "none on 25", mod: func(o *SMTPOptions) { o.TLS = TLSNone }, wantPort: 25},
		{name: "tls on 465", mod: func(o *SMTPOptions) { o.TLS = TLSImplicit }, wantPort: 465},
		{name: "explicit port", mod: func(o *SMTPOptions) { o.Port = 2525 }, wantPort: 2525},
		{name: "no host", mod: func(o *SMTPOptions) { o.Host = "" }, wantErr: "host is required"},
		{name: "bad tls", mod: func(o *SMTPOptions) { o.TLS = "ssl" }, wantErr: "tls must be"},
		{name: "bad port", mod: func(o *SMTPOptions) { o.Port = 70000 }, wantErr: "out of range"},
		{name: "bad from", mod: func(o *SMTPOptions) { o.From = "nobody" }, wantErr: "from"},
		{name: "password only", mod: func(o *SMTPOptions) { o.Password = "x" }, wantErr: "without username"},
		{name: "every problem at once", mod: func(o *SMTPOptions) { o.Host, o.TLS = "", "x" }, wantErr: "host is required\ntls must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			if tc.mod != nil {
				tc.mod(&o)
			}
			m, err := NewSMTPMailer(o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.opts.Port != tc.wantPort {
				t.Errorf("port = %d, want %d", m.opts.Port, tc.wantPort)
			}
			if m.tls.ServerName != "smtp.example.com" {
				t.Errorf("ServerName = %q", m.tls.ServerName)
			}
		})
	}
}

func TestSecretsStayOutOfLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	opts := SMTPOptions{Host: "smtp.example.com", Username: "relay", Password: "hunter2-password"}
	msg := testMessage("member@example.com")
	sms := SMS{To: "+819012345678", Body: "code 123456", Purpose: "otp", Locale: "ja"}
	log.Info("config", "smtp", opts, "message", msg, "sms", sms)
	fmtOut := fmt.Sprintf("%v %+v %#v %v", msg, msg, msg, sms)
	for _, out := range []string{buf.String(), fmtOut} {
		for _, secret := range []string{"hunter2-password", "123456"} {
			if strings.Contains(out, secret) {
				t.Errorf("output leaks %q: %s", secret, out)
			}
		}
	}
	if !strings.Contains(buf.String(), `"password":"REDACTED"`) || !strings.Contains(buf.String(), `"purpose":"otp"`) {
		t.Errorf("log lacks expected fields: %s", buf.String())
	}
}
