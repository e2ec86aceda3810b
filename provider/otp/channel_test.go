package otp

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"
	"tsubasa/storage"
)

func TestChannels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*storage.Member)
		tweak  func(*Options)
		want   []string
	}{
		{"both, email preferred", nil, nil, []string{ChannelEmail, ChannelSMS}},
		{"both, sms preferred", func(m *storage.Member) { m.OTPChannel = ChannelSMS }, nil, []string{ChannelSMS, ChannelEmail}},
		{"phone not verified", func(m *storage.Member) { m.PhoneVerified = false }, nil, []string{ChannelEmail}},
		{"resident outside Japan", func(m *storage.Member) { m.Country = "US" }, nil, []string{ChannelEmail}},
		{"country in lower case", func(m *storage.Member) { m.Country = "jp" }, nil, []string{ChannelEmail, ChannelSMS}},
		{"configured countries", func(m *storage.Member) { m.Country = "SG" },
			func(o *Options) { o.SMSCountries = []string{"JP", "SG"} }, []string{ChannelEmail, ChannelSMS}},
		{"sms turned off", nil, func(o *Options) { o.SMSCountries = []string{} }, []string{ChannelEmail}},
		{"email not verified", func(m *storage.Member) { m.EmailVerified = false }, nil, []string{ChannelSMS}},
		{"no contacts", func(m *storage.Member) { m.Email, m.Phone = "", "" }, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, tc.tweak)
			m := hanako()
			if tc.change != nil {
				tc.change(&m)
			}
			if got := fx.svc.Channels(m); !slices.Equal(got, tc.want) {
				t.Fatalf("Channels = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestChannelsWithoutSMSDriver(t *testing.T) {
	fx := newFixture(t, nil)
	svc, err := NewService(fx.store, fx.svc.mail, nil, fx.svc.render, fx.svc.o)
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Channels(hanako()); !slices.Equal(got, []string{ChannelEmail}) {
		t.Fatalf("Channels = %v", got)
	}
}

func TestIssueRouting(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   func(*storage.Member)
		req      IssueRequest
		want     error
		wantChan string
	}{
		{"sms for a resident outside Japan", func(m *storage.Member) { m.Country = "US" },
			IssueRequest{Channel: ChannelSMS}, ErrChannelNotAllowed, ""},
		{"sms to an unverified number", func(m *storage.Member) { m.PhoneVerified = false },
			IssueRequest{Channel: ChannelSMS}, ErrChannelNotAllowed, ""},
		{"sms without a number", func(m *storage.Member) { m.Phone = "" },
			IssueRequest{Channel: ChannelSMS}, ErrNoDestination, ""},
		{"email to an unverified address", func(m *storage.Member) { m.EmailVerified = false },
			IssueRequest{Channel: ChannelEmail}, ErrChannelNotAllowed, ""},
		{"unknown channel", nil, IssueRequest{Channel: "fax"}, ErrChannelNotAllowed, ""},
		{"no contacts at all", func(m *storage.Member) { m.Email, m.Phone = "", "" }, IssueRequest{}, ErrNoDestination, ""},
		{"destination outside contact", nil, IssueRequest{Destination: "evil@example.net"}, ErrChannelNotAllowed, ""},
		{"unknown purpose", nil, IssueRequest{Purpose: "admin"}, ErrUnknownPurpose, ""},
		{"preferred sms", func(m *storage.Member) { m.OTPChannel = ChannelSMS }, IssueRequest{}, nil, ChannelSMS},
		{"preferred sms, number unverified: email", func(m *storage.Member) { m.OTPChannel, m.PhoneVerified = ChannelSMS, false },
			IssueRequest{}, nil, ChannelEmail},
		{"no preference: email", func(m *storage.Member) { m.OTPChannel = "" }, IssueRequest{}, nil, ChannelEmail},
		{"only a verified number", func(m *storage.Member) { m.EmailVerified = false }, IssueRequest{}, nil, ChannelSMS},
		{"contact: own unverified address", func(m *storage.Member) { m.EmailVerified = false },
			IssueRequest{Purpose: PurposeContact}, nil, ChannelEmail},
		{"contact: malformed address", nil, IssueRequest{Purpose: PurposeContact, Destination: "no-at-sign"}, ErrNoDestination, ""},
		{"contact: header injection", nil, IssueRequest{Purpose: PurposeContact, Destination: "a@b.jp\r\nBcc: c@d.jp"}, ErrNoDestination, ""},
		{"contact: malformed number", nil, IssueRequest{Purpose: PurposeContact, Destination: "+0901234"}, ErrNoDestination, ""},
		{"contact: sms outside Japan", func(m *storage.Member) { m.Country = "GB" },
			IssueRequest{Purpose: PurposeContact, Destination: "+447700900123"}, ErrChannelNotAllowed, ""},
		{"contact: everything verified", nil, IssueRequest{Purpose: PurposeContact}, ErrNoDestination, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, nil)
			m := hanako()
			if tc.change != nil {
				tc.change(&m)
			}
			req := tc.req
			req.Member = m
			if req.Purpose == "" {
				req.Purpose = PurposeLogin
			}
			ch, err := fx.svc.Issue(t.Context(), req)
			if tc.want != nil {
				wantErr(t, err, tc.want)
				if n := len(fx.smtp.Messages()) + len(fx.sms.Requests()); n != 0 {
					t.Fatalf("%d messages sent", n)
				}
				return
			}
			if err != nil || ch.Channel != tc.wantChan {
				t.Fatalf("Issue = %+v, %v; want channel %s", ch, err, tc.wantChan)
			}
		})
	}
}

func TestContactVerification(t *testing.T) {
	t.Run("new address by mail", func(t *testing.T) {
		fx := newFixture(t, nil)
		ch := fx.issue(t, IssueRequest{Purpose: PurposeContact, Destination: "new.addr@example.org"})
		if ch.Channel != ChannelEmail || ch.MaskedDestination != "n***@example.org" {
			t.Fatalf("challenge = %+v", ch)
		}
		m := fx.lastMail(t, 1)
		if m.To[0] != "new.addr@example.org" || !strings.Contains(m.Subject, "メールアドレス確認コード") ||
			!strings.Contains(m.Text, "new.addr@example.org") {
			t.Fatalf("mail to %v: %s\n%s", m.To, m.Subject, m.Text)
		}
		got, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeContact, fx.codeFromMail(t), "")
		if err != nil || got.Destination != "new.addr@example.org" {
			t.Fatalf("Verify = %+v, %v", got, err)
		}
	})
	t.Run("new number by sms", func(t *testing.T) {
		fx := newFixture(t, nil)
		ch := fx.issue(t, IssueRequest{Purpose: PurposeContact, Destination: "+818012340000", Locale: "en"})
		if ch.Channel != ChannelSMS || ch.MaskedDestination != "+81 80-****-0000" {
			t.Fatalf("challenge = %+v", ch)
		}
		reqs := fx.sms.Delivered()
		if len(reqs) != 1 || reqs[0].To != "+818012340000" || !strings.Contains(reqs[0].Body, "phone confirmation code") {
			t.Fatalf("sms = %+v", reqs)
		}
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeContact, fx.codeFromSMS(t), ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("pictograms by mail", func(t *testing.T) {
		fx := newFixture(t, func(o *Options) { o.Formats = map[string]string{PurposeContact: FormatPictogram} })
		fx.issue(t, IssueRequest{Purpose: PurposeContact, Destination: "new@example.org", Locale: "en"})
		if m := fx.lastMail(t, 1); !strings.Contains(m.Text, "to change your account details") {
			t.Fatalf("mail:\n%s", m.Text)
		}
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeContact, fx.codeFromMail(t), ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMaskDestination(t *testing.T) {
	for _, tc := range []struct{ channel, in, want string }{
		{ChannelEmail, "hanako@example.com", "h***@example.com"},
		{ChannelEmail, "花子@例え.jp", "花***@例え.jp"},
		{ChannelEmail, "@example.com", "***@example.com"},
		{ChannelEmail, "garbage", "***"},
		{ChannelSMS, "+819012345678", "+81 90-****-5678"},
		{ChannelSMS, "+81312345678", "+81 31-****-5678"},
		{ChannelSMS, "+6591234567", "+******4567"},
		{ChannelSMS, "+123", "****"},
		{ChannelSMS, "", ""},
	} {
		if got := MaskDestination(tc.channel, tc.in); got != tc.want {
			t.Errorf("MaskDestination(%s, %q) = %q, want %q", tc.channel, tc.in, got, tc.want)
		}
	}
}

func TestDeliveryFailure(t *testing.T) {
	t.Run("smtp down, then back", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.smtp.Stop()
		ch, err := fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin})
		var de *DeliveryError
		if !errors.As(err, &de) || de.Channel != ChannelEmail || de.Permanent || de.Err == nil {
			t.Fatalf("Issue with SMTP down: %v", err)
		}
		if CatalogKey(err) != "otp.error.delivery" {
			t.Fatalf("catalog key %q", CatalogKey(err))
		}
		// The challenge stays stored, for the entry page and a late delivery.
		if cur, err := fx.svc.Current(t.Context(), "m-hanako", PurposeLogin); err != nil || cur.ID != ch.ID {
			t.Fatalf("Current = %+v, %v; want %s", cur, err, ch.ID)
		}
		ev := events(t, fx, "m-hanako")
		if len(ev) != 1 || ev[0].Type != EventSent || ev[0].Success || ev[0].Reason != "delivery_failed" {
			t.Fatalf("events = %+v", ev)
		}
		// Retry at once: the interval is waived after a failed delivery.
		fx.smtp.Start()
		fx.issue(t, IssueRequest{})
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, fx.codeFromMail(t), ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("recipient rejected, then sms", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.smtp.RejectRecipients(550, "no such user")
		_, err := fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin})
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent {
			t.Fatalf("Issue to a rejected address: %v", err)
		}
		fx.issue(t, IssueRequest{Channel: ChannelSMS})
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, fx.codeFromSMS(t), ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sms gateway refuses, then email", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.sms.SetStatus(400)
		_, err := fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin, Channel: ChannelSMS})
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent || de.Channel != ChannelSMS {
			t.Fatalf("Issue with gateway 400: %v", err)
		}
		fx.issue(t, IssueRequest{Channel: ChannelEmail})
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, fx.codeFromMail(t), ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sms gateway down is temporary", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.sms.SetStatus(503)
		_, err := fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeLogin, Channel: ChannelSMS})
		var de *DeliveryError
		if !errors.As(err, &de) || de.Permanent {
			t.Fatalf("Issue with gateway 503: %v", err)
		}
	})
	t.Run("late delivery still works", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.smtp.SetDelay(time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := fx.svc.Issue(ctx, IssueRequest{Member: hanako(), Purpose: PurposeLogin})
		var de *DeliveryError
		if !errors.As(err, &de) {
			t.Fatalf("Issue with a slow server: %v", err)
		}
		m := fx.smtp.WaitFor(t, func(notifytest.ReceivedMail) bool { return true }, 5*time.Second)
		code := digitsLine.FindStringSubmatch(m.Text)
		if code == nil {
			t.Fatalf("no code in late mail:\n%s", m.Text)
		}
		if _, err := fx.svc.Verify(t.Context(), "m-hanako", PurposeLogin, code[1], ""); err != nil {
			t.Fatal(err)
		}
	})
}
