package acr

import (
	"slices"
	"time"
)

// Assurance levels, as acr values.
const (
	Password          = "urn:tsubasa:acr:pwd"
	OTP               = "urn:tsubasa:acr:otp"
	PhishingResistant = "phr"
)

// RFC 8176 authentication method references.
const (
	AMRPassword = "pwd"
	AMRPIN      = "pin"
	AMROTP      = "otp"
	AMRSMS      = "sms"
	AMRMFA      = "mfa"
	AMRHardware = "hwk"
	AMRSoftware = "swk"
	AMRUser     = "user" // user presence/verification test (biometric or device PIN)
)

var rank = map[string]int{Password: 1, OTP: 2, PhishingResistant: 3}

// Levels returns Tsubasa's levels, lowest first: what a relying party may
// name in acr_values (the provider advertises them as acr_values_supported).
func Levels() []string { return []string{Password, OTP, PhishingResistant} }

// Known reports whether v is one of Tsubasa's levels.
func Known(v string) bool { _, ok := rank[v]; return ok }

// Satisfies reports whether an authentication at level have meets want.
func Satisfies(have, want string) bool {
	h, w := rank[have], rank[want]
	return w > 0 && h >= w
}

// Required returns the level a request's acr_values asks for: the lowest known
// value listed (any listed value is acceptable to the relying party, so the
// member is not asked for more than the weakest one), or "" if none is known.
func Required(values []string) string {
	best := ""
	for _, v := range values {
		if !Known(v) {
			continue
		}
		if best == "" || rank[v] < rank[best] {
			best = v
		}
	}
	return best
}

// Met reports whether an authentication at level have satisfies a request's
// acr_values (true when the request names no known level).
func Met(have string, values []string) bool {
	want := Required(values)
	return want == "" || Satisfies(have, want)
}

// Higher returns the stronger of two levels.
func Higher(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// AMR merges method references without duplicates, adding "mfa" when the
// methods span more than one factor (knowledge plus possession).
func AMR(methods ...string) []string {
	out := make([]string, 0, len(methods)+1)
	for _, m := range methods {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	knowledge := slices.Contains(out, AMRPassword) || slices.Contains(out, AMRPIN)
	possession := slices.Contains(out, AMROTP) || slices.Contains(out, AMRHardware) || slices.Contains(out, AMRSoftware)
	if knowledge && possession && !slices.Contains(out, AMRMFA) {
		out = append(out, AMRMFA)
	}
	return out
}

// Fresh reports whether an authentication at authTime is recent enough for a
// max_age of maxAge seconds (nil = no limit) at now.
func Fresh(authTime time.Time, maxAge *int64, now time.Time) bool {
	if maxAge == nil {
		return true
	}
	if authTime.IsZero() {
		return false
	}
	return now.Sub(authTime) <= time.Duration(*maxAge)*time.Second
}
