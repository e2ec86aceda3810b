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
