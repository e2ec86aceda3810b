// Package contactcheck owns whether a member's registered contacts still
// receive messages: the contacts page's "send me a test message", its
// "received it" link, the date each contact was last confirmed, and when a
// member should be reminded after a login to check (the first seed asks
// members to check that their registered address still works).
//
// # The test message
//
// Send mails (through the one-time passwords' mailer, the path that must
// work) or texts (through the SMS guard, whose budget it counts against) a
// short message in the member's language with a "received it" link, to
// the member's current address or number. Sends are throttled per member
// in storage, so the limit holds across replicas: one per TestInterval,
// TestsPerDay in any 24 hours (the window starts at the first send and
// is counted on the member record, reserved atomically before sending).
//
// # The link
//
// The link's token is the member id, the channel, an expiry and a random
// nonce, with an HMAC-SHA-256 (a key derived from the master secret) over
// them and the destination it was sent to, truncated to 128 bits:
//
//	token = member "." channel "." expiry (unix, base 36) "." nonce "." mac
//	mac   = HMAC(key, "tsubasa contact check v1" 0 member 0 channel 0 expiry 0 nonce 0 destination)
//
// So a link is bound to one member and one address: changing the member
// id, the channel or the expiry breaks the MAC, and a link for an address
// the member no longer has fails too (the MAC covers the current one).
// The member record keeps the SHA-256 of the newest nonce per channel,
// never the nonce; Confirm spends it in the same atomic update that stores
// the confirmation date, so a link works once (a replay, or a race of two,
// finds it gone) and only the newest link of a channel works. MACs and
// nonce hashes are compared in constant time. Every refusal is the same
// ErrLink for the member (the log says which check failed); nothing in
// the answer says whether a member or an address exists.
//
// The link opens a page that asks for a click (a POST) before spending
// it: mail scanners that fetch every link must not confirm for the member.
// It needs no login: holding the message is what it proves.
package contactcheck
