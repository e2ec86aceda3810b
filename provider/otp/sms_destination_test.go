package otp

import (
	"errors"
	"slices"
	"testing"

	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// A stored number that may not receive SMS (imported, or saved before the
// number check) is never offered, whatever the member's residence.
func TestChannelsOnlyForNumbersThatMayReceiveSMS(t *testing.T) {
	fx := newFixture(t, nil)
	for _, tc := range []struct {
		phone string
		want  []string
	}{
		{"+819012345678", []string{ChannelSMS, ChannelEmail}},
		{"+447400123456", []string{ChannelEmail}}, // a UK mobile
		{"+882161234567", []string{ChannelEmail}}, // international network
		{"+81990123456", []string{ChannelEmail}},  // premium rate
		{"+815012345678", []string{ChannelEmail}}, // IP phone
		{"+81312345678", []string{ChannelEmail}},  // landline
	} {
		m := hanako()
		m.Phone, m.OTPChannel = tc.phone, ChannelSMS
		if got := fx.svc.Channels(m); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Channels = %v, want %v", tc.phone, got, tc.want)
		}
		ch, err := fx.svc.Issue(t.Context(), IssueRequest{Member: m, Purpose: PurposeStepUp, Channel: ChannelSMS})
		if tc.want[0] == ChannelSMS {
			if err != nil || ch.Channel != ChannelSMS {
				t.Errorf("%s: Issue by SMS = %+v, %v", tc.phone, ch, err)
			}
		} else if !errors.Is(err, ErrChannelNotAllowed) {
			t.Errorf("%s: Issue by SMS: %v, want ErrChannelNotAllowed", tc.phone, err)
		}
		fx.clock.Advance(2 * fx.svc.o.ResendInterval)
	}
	if n := len(fx.sms.Requests()); n != 1 {
		t.Errorf("%d SMS sent, want only the one to the Japanese mobile", n)
	}
}

// A member resident in Japan verifying a new number: the number's own
// country and type decide, and nothing is sent or stored when refused.
func TestContactNumberRefusedBeforeAnythingIsSent(t *testing.T) {
	fx := newFixture(t, nil)
	for _, tc := range []struct {
		number, key string
	}{
		{"+447400123456", "otp.error.sms_country"},
		{"+882161234567", "otp.error.sms_country"},
		{"+881612345678", "otp.error.sms_country"},
		{"+12025550123", "otp.error.sms_country"},
		{"+81990123456", "otp.error.sms_number_type"},
		{"+81570012345", "otp.error.sms_number_type"},
		{"+815012345678", "otp.error.sms_number_type"},
	} {
		_, err := fx.svc.Issue(t.Context(), IssueRequest{Member: hanako(), Purpose: PurposeContact, Destination: tc.number})
		if !errors.Is(err, ErrSMSDestination) || !errors.Is(err, ErrChannelNotAllowed) {
			t.Errorf("%s: %v, want ErrSMSDestination", tc.number, err)
		}
		if got := CatalogKey(err); got != tc.key {
			t.Errorf("%s: catalog key %q, want %q", tc.number, got, tc.key)
		}
		if got := CatalogKey(fx.svc.CheckSMSNumber(tc.number)); got != tc.key {
			t.Errorf("CheckSMSNumber(%s): catalog key %q, want %q", tc.number, got, tc.key)
		}
	}
	if n := len(fx.sms.Requests()); n != 0 {
		t.Errorf("%d SMS sent to refused numbers", n)
	}
	if _, err := fx.svc.Current(t.Context(), "m-hanako", PurposeContact); !errors.Is(err, ErrNoChallenge) {
		t.Errorf("a challenge was stored for a refused number: %v", err)
	}
	if err := fx.svc.CheckSMSNumber("+818012345678"); err != nil {
		t.Errorf("a Japanese mobile refused: %v", err)
	}
}

// With the service's SMS budget spent, the SMS comes back as a delivery
// failure the page explains as "SMS unavailable", and email still works.
func TestSMSBudgetSpentLeavesEmail(t *testing.T) {
	fx := newFixture(t, nil)
	guard, err := notify.NewSMSGuard(fx.svc.sms, notify.SMSGuardOptions{
		Policy: notify.NewSMSPolicy([]string{"JP"}), Budget: fx.store, MaxPerHour: 1, Now: fx.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(fx.store, fx.svc.mail, guard, fx.svc.render, fx.svc.o)
	if err != nil {
		t.Fatal(err)
	}
	other := hanako()
	other.ID = "m-other"
	for i, m := range []storage.Member{hanako(), other} {
		_, err := svc.Issue(t.Context(), IssueRequest{Member: m, Purpose: PurposeStepUp, Channel: ChannelSMS})
		if i == 0 && err != nil {
			t.Fatalf("first SMS: %v", err)
		}
		if i == 1 {
			var de *DeliveryError
			if !errors.As(err, &de) || !errors.Is(err, ErrSMSUnavailable) || de.Permanent {
				t.Fatalf("SMS past the budget: %v, want a temporary DeliveryError with ErrSMSUnavailable", err)
			}
			if got := CatalogKey(err); got != "otp.error.sms_unavailable" {
				t.Errorf("catalog key %q", got)
			}
		}
	}
	if n := len(fx.sms.Requests()); n != 1 {
		t.Fatalf("%d SMS reached the gateway, want 1", n)
	}
	if _, err := svc.Issue(t.Context(), IssueRequest{Member: other, Purpose: PurposeStepUp, Channel: ChannelEmail}); err != nil {
		t.Fatalf("email with the SMS budget spent: %v", err)
	}
	if _, err := svc.Verify(t.Context(), "m-other", PurposeStepUp, fx.codeFromMail(t), ""); err != nil {
		t.Fatal(err)
	}
}
