package adminapi

import "time"

// Member support sessions: an agent proves that the member is on the line
// before changing the member's credentials. Starting a session sends the
// member a one-time code on their own verified channel; the member reads
// it back and the agent enters it (SupportVerifyInput). A verified session
// is then named, as support_session, in the request of a sensitive support
// operation (a password, passkeys' removal, OTP destinations' reset). No
// answer ever carries the code.

// Support session states (SupportSessionView.State).
const (
	SupportPending  = "pending"  // the code is sent; waiting for the member to read it back
	SupportVerified = "verified" // the member read it back; good until VerifiedUntil
	SupportFailed   = "failed"   // out of attempts, or replaced by a newer session's code
	SupportExpired  = "expired"  // the code, or the verified window, ran out
)

// SupportStartInput starts a support session with a member. The code goes
// to the channel the member chose for one-time passwords, when it is open
// to them, else to their other verified one; never to an address the
// agent gives.
type SupportStartInput struct {
	Number string `json:"number"`
}

// SupportSessionInput names a support session of a member.
type SupportSessionInput struct {
	Number string `json:"number"`
	ID     string `json:"id"`
}

// SupportVerifyInput is the code the member read back to the agent.
type SupportVerifyInput struct {
	Number string `json:"number"`
	ID     string `json:"id"`
	Code   string `json:"code"`
}

// SupportSessionView is a support session as the agent sees it: where the
// code went, masked, and never the code.
type SupportSessionView struct {
	ID            string    `json:"id"`
	Number        string    `json:"number"`
	State         string    `json:"state"`
	Channel       string    `json:"channel"`     // email or sms
	Destination   string    `json:"destination"` // masked: h***@example.com, +81 90-****-5678
	Agent         string    `json:"agent,omitempty"`
	AttemptsLeft  int       `json:"attempts_left"`
	CreatedAt     time.Time `json:"created_at"`
	ExpiresAt     time.Time `json:"expires_at"` // the code's end
	VerifiedUntil time.Time `json:"verified_until,omitzero"`
}
