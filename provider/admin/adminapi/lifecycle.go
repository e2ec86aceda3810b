package adminapi

// MemberDeleteInput erases a member. IfMatch is the ETag
// (MemberView.Version) of the member as the caller last read it, or "*":
// the erasure is made only on the member the caller looked at.
type MemberDeleteInput struct {
	Number  string `json:"number"`
	IfMatch string `json:"if_match,omitempty"`
}

// MemberErased is what erasing a member did. ID is the erased member's id
// (the sub first-party tokens carried), under which the tombstone event
// (Tombstone) stays in the audit log; nothing else of the member is kept.
type MemberErased struct {
	ID            string `json:"id"`
	Tombstone     string `json:"tombstone"`
	EndedSessions int    `json:"ended_sessions"`
	RevokedTokens int    `json:"revoked_tokens"`
	Records       int    `json:"records"`
}

// MemberFindInput finds members by one contact: Email, or Phone (E.164,
// or national for Country, JP when empty), normalised as the member
// package normalises what it stores, then matched exactly.
type MemberFindInput struct {
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Country string `json:"country,omitempty"`
}

// MaxMembersFound bounds a lookup's answer: contacts are shared by few.
const MaxMembersFound = 20

// MembersFound are the members with the contact, at most
// MaxMembersFound; Truncated says there were more.
type MembersFound struct {
	Members   []MemberView `json:"members"`
	Truncated bool         `json:"truncated,omitempty"`
}
