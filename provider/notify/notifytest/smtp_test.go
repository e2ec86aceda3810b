package notifytest

import (
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

const rawMail = "From: a@example.com\r\n" +
	"To: b@example.com\r\n" +
	"Subject: =?UTF-8?B?44Ot44Kw44Kk44OzIC8gTG9naW4=?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"caf=C3=A9 =\r\n" +
	"ok\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+aGk8\r\nL3A+\r\n" +
	"--XYZ--\r\n"

func send(s *SMTPServer) error {
	host, port := s.Addr()
	return smtp.SendMail(net.JoinHostPort(host, fmt.Sprint(port)), nil, "a@example.com", []string{"b@example.com"}, []byte(rawMail))
}

func TestSMTPServerDecodesAndRestarts(t *testing.T) {
	s := NewSMTPServer(t)
	if err := send(s); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, func(m ReceivedMail) bool { return m.From == "a@example.com" }, 5*time.Second)
	if got.Subject != "ログイン / Login" || got.Text != "café ok" || got.HTML != "<p>hi</p>" {
		t.Errorf("decoded subject %q text %q html %q", got.Subject, got.Text, got.HTML)
	}
	if len(got.To) != 1 || got.To[0] != "b@example.com" || got.TLS || !strings.Contains(string(got.Raw), "XYZ") {
		t.Errorf("envelope %v tls %v", got.To, got.TLS)
	}

	_, port := s.Addr()
	s.Stop()
	if err := send(s); err == nil {
		t.Fatal("send to a stopped server succeeded")
	}
	s.Start()
	if _, again := s.Addr(); again != port {
		t.Fatalf("restarted on port %d, want %d", again, port)
	}
	if err := send(s); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

func TestSMTPServerRejectsRecipients(t *testing.T) {
	s := NewSMTPServer(t)
	s.RejectRecipients(550, "no such user")
	err := send(s)
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("err = %v, want a 550", err)
	}
	s.RejectRecipients(0, "")
	if err := send(s); err != nil {
		t.Fatal(err)
	}
}
