package adminapi

import "time"

// The requests and responses of the member support operations and the
// admin API's jobs. A member is named by Number: the member number as
// typed (spaces, hyphens and full-width digits allowed), or the member's
// id (the sub first-party tokens carry).

// MemberUpdateInput changes a member's profile and contacts. A field left
// out (null) stays as it is; an empty string clears an optional field.
// IfMatch is the ETag (MemberView.Version) of the member as the caller last
// read it: the change is made only if nobody changed the member since.
// Email and phone given by an operator count as verified; changing either
// is a credential change (every session ends, every token is revoked).
type MemberUpdateInput struct {
	Number          string  `json:"number"`
	IfMatch         string  `json:"if_match,omitempty"`
	FamilyName      *string `json:"family_name,omitempty"`
	GivenName       *string `json:"given_name,omitempty"`
	FamilyNameLatin *string `json:"family_name_latin,omitempty"`
	GivenNameLatin  *string `json:"given_name_latin,omitempty"`
	Email           *string `json:"email,omitempty"`
	Phone           *string `json:"phone,omitempty"`
	Country         *string `json:"country,omitempty"`
	Locale          *string `json:"locale,omitempty"`
}

// OTPResetInput removes where one-time passwords may go: the member's
// email address (Email) and mobile number (Phone), for a member who lost
// the phone or the mailbox. Codes then go only to what is left; an
// operator sets a new one with an update.
type OTPResetInput struct {
	Number string `json:"number"`
	Email  bool   `json:"email,omitempty"`
	Phone  bool   `json:"phone,omitempty"`
	// SupportSession: see PasswordInput.
	SupportSession string `json:"support_session,omitempty"`
}

// Ended is what a support operation ended: sessions, and stored tokens
// (access tokens issued before are refused too, uncounted).
type Ended struct {
	EndedSessions int `json:"ended_sessions"`
	RevokedTokens int `json:"revoked_tokens"`
}

// PasskeysRemoved is what removing a member's passkeys did.
type PasskeysRemoved struct {
	Removed int `json:"removed"`
	Ended
}

// PasskeysInput names a member's passkey by its credential id (base64url),
// or every passkey of the member when ID is empty.
type PasskeysInput struct {
	Number string `json:"number"`
	ID     string `json:"id,omitempty"`
	// SupportSession: see PasswordInput.
	SupportSession string `json:"support_session,omitempty"`
}

// SessionInput names one of a member's sessions, or all of them when
// Session is empty.
type SessionInput struct {
	Number  string `json:"number"`
	Session string `json:"session,omitempty"`
}

// SessionView is a member's browser session, without its flow state.
type SessionView struct {
	ID         string    `json:"id"`
	DeviceID   string    `json:"device_id,omitempty"`
	ACR        string    `json:"acr,omitempty"`
	AMR        []string  `json:"amr,omitempty"`
	IP         string    `json:"ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	AuthTime   time.Time `json:"auth_time,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// SessionsOutput lists a member's sessions.
type SessionsOutput struct {
	Number   string        `json:"number"`
	Sessions []SessionView `json:"sessions"`
}

// DeviceInput names one of a member's devices.
type DeviceInput struct {
	Number string `json:"number"`
	Device string `json:"device"`
}

// DeviceView is a device a member logged in from.
type DeviceView struct {
	ID          string    `json:"id"`
	Type        string    `json:"type,omitempty"`
	Model       string    `json:"model,omitempty"`
	OS          string    `json:"os,omitempty"`
	OSVersion   string    `json:"os_version,omitempty"`
	Browser     string    `json:"browser,omitempty"`
	Version     string    `json:"browser_version,omitempty"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	LastIP      string    `json:"last_ip,omitempty"`
	Locked      bool      `json:"locked"`
}

// DevicesOutput lists a member's devices.
type DevicesOutput struct {
	Number  string       `json:"number"`
	Devices []DeviceView `json:"devices"`
}

// AppInput names a third-party app (a client) linked to a member.
type AppInput struct {
	Number string `json:"number"`
	Client string `json:"client"`
}

// AppView is a third-party app the member allowed, and what it may see.
type AppView struct {
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AppsOutput lists the apps linked to a member.
type AppsOutput struct {
	Number string    `json:"number"`
	Apps   []AppView `json:"apps"`
}

// Job states (JobView.State).
const (
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobAbandoned = "abandoned" // running, but not heard of for a while: its process died
)

// JobView is a job of the admin API: a member import. Progress counts
// what is done so far; Result, once the job is done, is its full result
// (for an import, an ImportResult).
type JobView struct {
	ID        string       `json:"id"`
	Kind      string       `json:"kind"`
	State     string       `json:"state"`
	ClientID  string       `json:"client_id"`
	Agent     string       `json:"agent,omitempty"`
	Progress  ImportResult `json:"progress"`
	Error     string       `json:"error,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	ExpiresAt time.Time    `json:"expires_at"`
}

// JobIDInput names a job.
type JobIDInput struct {
	ID string `json:"id"`
}

// JobsInput asks for the newest jobs.
type JobsInput struct {
	Limit int `json:"limit,omitempty"`
}

// JobsOutput lists jobs, newest first.
type JobsOutput struct {
	Jobs []JobView `json:"jobs"`
}
