package notify

import (
	"errors"
	"strings"
	"testing"
)

func TestSMSPolicy(t *testing.T) {
	jp := NewSMSPolicy([]string{"JP"})
	tests := []struct {
		number string
		policy SMSPolicy
		reason string // "" = allowed
		region string
	}{
		{"+819012345678", jp, "", ""},
		{"+818012345678", jp, "", ""},
		{"+817012345678", jp, "", ""},
		{"+447400123456", jp, SMSReasonCountry, "GB"},        // a UK mobile, for a JP-only service
		{"+12025550123", jp, SMSReasonCountry, "US"},         // North America
		{"+882161234567", jp, SMSReasonNonGeographic, "001"}, // international network
		{"+883510012345", jp, SMSReasonNonGeographic, "001"}, // international network
		{"+881612345678", jp, SMSReasonNonGeographic, "001"}, // Iridium satellite
		{"+870773111632", jp, SMSReasonNonGeographic, "001"}, // Inmarsat satellite
		{"+979123456789", jp, SMSReasonNonGeographic, "001"}, // international premium rate
		{"+81990123456", jp, "premium_rate", "JP"},           // 0990 dial Q2
		{"+81570012345", jp, "uan", "JP"},                    // 0570 navi-dial
		{"+815012345678", jp, "voip", "JP"},                  // 050 IP phone
		{"+81312345678", jp, "fixed_line", "JP"},             // a Tokyo landline
		{"+81120123456", jp, "toll_free", "JP"},              // 0120
		{"+81601234567", jp, "personal_number", "JP"},        // 060
		{"+812012345678", jp, "pager", "JP"},                 // 020
		{"+449098765432", NewSMSPolicy([]string{"GB"}), "premium_rate", "GB"},
		{"+448431234567", NewSMSPolicy([]string{"GB"}), "premium_rate", "GB"}, // 0843: service charge
		{"+447012345678", NewSMSPolicy([]string{"GB"}), "personal_number", "GB"},
		{"+445512345678", NewSMSPolicy([]string{"GB"}), "uan", "GB"},
		{"+447400123456", NewSMSPolicy([]string{" gb "}), "", ""},
		{"+447911123456", NewSMSPolicy([]string{"GB"}), SMSReasonCountry, "GG"}, // +44 7911 12: Guernsey, not the UK
		{"+12025550123", NewSMSPolicy([]string{"US"}), "", ""},                  // fixed line or mobile: cannot tell, allowed
		{"+19002345678", NewSMSPolicy([]string{"US"}), "premium_rate", "US"},
		{"+12042345678", NewSMSPolicy([]string{"US"}), SMSReasonCountry, "CA"}, // +1 is not one country
		{"+819012345678", NewSMSPolicy(nil), SMSReasonCountry, "JP"},
		{"+819012345678", SMSPolicy{}, SMSReasonCountry, "JP"},
		{"09012345678", jp, SMSReasonInvalid, ""},
		{"+81901234", jp, SMSReasonInvalid, ""},
		{"+447700900123", jp, SMSReasonInvalid, ""}, // Ofcom's drama range: no such number
		{"+819012345678;ext=1", jp, SMSReasonInvalid, ""},
		{"", jp, SMSReasonInvalid, ""},
	}
	for _, tt := range tests {
		err := tt.policy.Check(tt.number)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("%s: refused (%v), want allowed", tt.number, err)
			}
			continue
		}
		var de *SMSDestinationError
		if !errors.As(err, &de) {
			t.Errorf("%s: error %v, want an *SMSDestinationError", tt.number, err)
			continue
		}
		if de.Reason != tt.reason || de.Region != tt.region {
			t.Errorf("%s: reason %q region %q, want %q %q", tt.number, de.Reason, de.Region, tt.reason, tt.region)
		}
		if !errors.Is(err, ErrSMSDestination) || !IsPermanent(err) {
			t.Errorf("%s: %v does not match ErrSMSDestination and ErrPermanent", tt.number, err)
		}
		if de.CountryRefused() != (tt.reason == SMSReasonCountry || tt.reason == SMSReasonNonGeographic) {
			t.Errorf("%s: CountryRefused() = %v for reason %s", tt.number, de.CountryRefused(), de.Reason)
		}
	}
}

// The errors go to logs: they must never carry the number.
func TestSMSDestinationErrorHoldsNoNumber(t *testing.T) {
	err := NewSMSPolicy([]string{"JP"}).Check("+447400123456")
	if err == nil {
		t.Fatal("a UK number passed a JP-only policy")
	}
	for _, part := range []string{"447911123456", "7911", "123456"} {
		if s := err.Error(); strings.Contains(s, part) {
			t.Errorf("error %q repeats %q of the number", s, part)
		}
	}
}

func TestSMSRefusalReasonsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range SMSRefusalReasons() {
		if r == "" || seen[r] {
			t.Errorf("reason %q empty or listed twice", r)
		}
		seen[r] = true
	}
	for _, want := range []string{"premium_rate", "shared_cost", "uan", "voip", SMSReasonBudget, SMSReasonCountry} {
		if !seen[want] {
			t.Errorf("reason %q missing", want)
		}
	}
}
