// Package otp owns one-time-password challenges: issuing a code for a
// purpose (login second step, step-up, contact verification, passkey
// registration, password reset, a support agent's read-back check),
// delivering it by mail or SMS, and checking
// what the member enters. It also owns the two code formats, six digits and
// pictograms (a sequence drawn from a fixed set of emoji, each with a word in
// every language mail is written in, as one airline's programme uses), and the resend
// throttle.
//
// It depends on storage (OTPs, Events and Throttles), on notify (Mailer,
// SMSSender, Renderer) and on acr for amr values; cmd builds Options from
// the configuration.
//
// # Challenges
//
// A challenge is a storage.OTP record holding HMAC-SHA-256(key, purpose,
// member id, code), never the code. At most one challenge is outstanding per
// member and purpose: PutOTP replaces the older one in the same commit, so
// issuing a new code voids the previous one ("only the newest mail works").
// Each record moves:
//
//	issued ──right code, before ExpiresAt──────────> consumed (Consumed)
//	issued ──wrong code, Attempts+1 < MaxAttempts──> issued (Attempts+1)
//	issued ──wrong code, Attempts+1 = MaxAttempts──> dead (Consumed, Attempts = MaxAttempts)
//	issued ──ExpiresAt passes──────────────────────> expired (left for the janitor)
//	any    ──Issue for the same member and purpose─> gone (replaced)
//
// A dead challenge is kept, marked consumed with Attempts at the limit,
// rather than deleted: later entries then get ErrTooManyAttempts (a clear
// message) instead of ErrNoChallenge, and the resend interval still counts
// from it. Verify checks and changes the record inside UpdateOTP, so a
// code is claimed exactly once however many requests race, and parallel
// wrong guesses are each counted. A malformed entry (not six digits, not
// pictograms of the configured length) is refused without counting.
//
// # Verify answers
//
//	no record for member and purpose   ErrNoChallenge
//	Attempts at MaxAttempts            ErrTooManyAttempts
//	Consumed                           ErrConsumed
//	past ExpiresAt                     ErrExpired
//	input malformed                    *InvalidCodeError{Malformed: true} (not counted)
//	HMAC differs, attempts left        *InvalidCodeError{Remaining: n}
//	HMAC differs, last attempt         ErrTooManyAttempts (event otp.locked)
//	HMAC matches                       the consumed record (event otp.verified)
//
// # Pictogram entry
//
// The entry page shows Pictograms(locale), symbol with its word underneath,
// as buttons, plus a text field for members whose screen cannot draw the
// symbols. Whatever the form posts goes through ParsePictogramInput, which
// returns the canonical code, the indices joined by dots ("3.17.5.29"):
// what Verify takes and what is hashed. The order of the set is therefore
// stored state; new pictograms may only be appended. With 32 pictograms a
// code needs at least 4 of them to reach 1,000,000 combinations, which
// NewService enforces.
//
// # Resend throttle
//
// Issue refuses with *ResendWaitError (RetryAfter is the wait to show) when
// the member's current challenge for the purpose is younger than
// ResendInterval, or when the member, or the client address (an IPv6
// client's network: Options.IPv6Prefix, clientaddr.LimitKey), has had
// ResendPerHour sends in the last hour. A send whose delivery failed does
// not hold up a retry (the interval is waived for it) but does count
// towards the hourly limits. The interval is measured from the stored
// challenge and from the last send; the last send and the hourly windows
// are storage throttles (storage.Throttles, see throttle.go), checked and
// counted in one update, so every replica sees every send: concurrent
// resends on several replicas cannot all pass, and ResendPerHour holds
// for the service as a whole. Nothing of the throttle is kept in this
// process's memory. (storage/bolt keeps throttles in its own memory, so
// there the hourly windows start afresh at a restart; the interval still
// counts from the stored challenge.)
//
// # Delivery
//
// Mail is rendered with notify.KindOTP (notify.KindContactVerify for a
// six-digit contact check) in the member's language and handed straight to
// the Mailer, never to the durable outbox, whose records would hold the
// code at rest. SMS is a short text in the member's language, from notify's catalogs; a
// reset's mail says the code is for a password reset. A failure
// comes back as *DeliveryError; the challenge stays stored, so a code that
// did arrive late still works, and the member can retry (a new code) or
// choose the other channel. SMS is offered only for a verified number of
// a member resident in one of Options.SMSCountries, and only when the
// number itself may receive SMS (CheckSMSNumber, notify.SMSPolicy: its
// own country is one of SMSCountries and it is a mobile number, not a
// premium-rate, shared-cost, VoIP, landline or international-network
// one). A contact check refuses such a number with ErrSMSDestination
// before anything is stored or sent. The SMS driver cmd hands in is
// wrapped in notify.SMSGuard, which checks every number again and keeps
// the service's hourly SMS budget: past it a send fails with a
// DeliveryError holding ErrSMSUnavailable, and email still works.
//
// A support code (PurposeSupport, for provider/admin's support sessions)
// is always six digits, to be read aloud, and its mail and SMS
// (notify.KindSupportCode, "sms.support") tell the member to read it only
// to an agent on a call the member made, never to someone who called
// them. VerifyChallenge checks a code against one named challenge, so a
// session is verified only by the code sent for it.
//
// Codes never reach a log, an error or an audit event: events carry the
// purpose, channel, format and masked destination only.
package otp
