package acr

import (
	"slices"
	"testing"
	"time"
)

func TestSatisfies(t *testing.T) {
	tests := []struct {
		have, want string
		ok         bool
	}{
		{Password, Password, true},
		{Password, OTP, false},
		{OTP, Password, true},
		{OTP, OTP, true},
		{OTP, PhishingResistant, false},
		{PhishingResistant, OTP, true},
		{PhishingResistant, Password, true},
		{"", Password, false},
		{PhishingResistant, "urn:unknown", false},
	}
	for _, tt := range tests {
		if got := Satisfies(tt.have, tt.want); got != tt.ok {
			t.Errorf("Satisfies(%q, %q) = %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
}

func TestRequiredAndMet(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{nil, ""},
		{[]string{"urn:other"}, ""},
		{[]string{OTP}, OTP},
		{[]string{PhishingResistant, OTP}, OTP},
		{[]string{"urn:other", PhishingResistant}, PhishingResistant},
	}
	for _, tt := range tests {
		if got := Required(tt.values); got != tt.want {
			t.Errorf("Required(%v) = %q, want %q", tt.values, got, tt.want)
		}
	}
	if !Met(Password, nil) || !Met(Password, []string{"urn:other"}) {
		t.Error("a request without a known level must be met by any login")
	}
	if Met(Password, []string{OTP}) || !Met(PhishingResistant, []string{OTP}) {
		t.Error("level ordering not applied by Met")
	}
}

func TestAMR(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{AMRPassword}, []string{AMRPassword}},
		{[]string{AMRPassword, AMROTP, AMRSMS}, []string{AMRPassword, AMROTP, AMRSMS, AMRMFA}},
		{[]string{AMRPIN, AMRPIN, ""}, []string{AMRPIN}},
		{[]string{AMRHardware, AMRUser}, []string{AMRHardware, AMRUser}},
	}
	for _, tt := range tests {
		if got := AMR(tt.in...); !slices.Equal(got, tt.want) {
			t.Errorf("AMR(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFresh(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	sixty := int64(60)
	zero := int64(0)
	if !Fresh(now.Add(-time.Hour), nil, now) {
		t.Error("no max_age must always be fresh")
	}
	if !Fresh(now.Add(-59*time.Second), &sixty, now) || Fresh(now.Add(-61*time.Second), &sixty, now) {
		t.Error("max_age=60 boundary wrong")
	}
	if Fresh(now.Add(-time.Second), &zero, now) {
		t.Error("max_age=0 must force a new login")
	}
	if Fresh(time.Time{}, &sixty, now) {
		t.Error("an unknown auth_time is never fresh")
	}
}

// TestLevelsAreRanked: Levels lists every level Known accepts, in the order
// Satisfies ranks them, so what discovery advertises is what is enforced.
func TestLevelsAreRanked(t *testing.T) {
	levels := Levels()
	if len(levels) != len(rank) {
		t.Fatalf("Levels() = %v, but %d levels are ranked", levels, len(rank))
	}
	for i, l := range levels {
		if !Known(l) {
			t.Errorf("Levels()[%d] = %q is not Known", i, l)
		}
		if i > 0 && (Satisfies(levels[i-1], l) || !Satisfies(l, levels[i-1])) {
			t.Errorf("Levels() out of order at %q, %q", levels[i-1], l)
		}
	}
}
