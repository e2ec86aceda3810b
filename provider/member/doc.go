// Package member owns member accounts: creation and validation of member
// records (number, names, email, phone), the password policy, password and
// PIN hashing (argon2id, with imported bcrypt accepted), web login with its
// throttling, the legacy 6-digit PIN and its migration to a real password,
// the call centre's telephone PIN check, and bulk import from CSV.
//
// It depends only on storage (Members, Events, Devices, Throttles and
// LoginAttempts), and on clientaddr for the address of a telephone API
// request, and takes plain option structs; cmd builds them from the
// configuration.
//
// The call centre reaches the telephone PIN check over HTTP:
// NewTelephoneAPI serves POST /api/telephone/verify (telephone_http.go).
// Tokens are the OpenID provider's, which this package does not import:
// the composition root passes a TelephoneAuthorizer built on the
// provider's service-token check, which accepts only a client's own
// client_credentials token carrying the telephone scope, as a Bearer
// token or a DPoP-bound one with its proof (it takes the whole request,
// since the proof names the method and URL).
//
// # Web login (Service.Authenticate)
//
// Checks run top to bottom; the first that applies answers.
//
//	check                                          answer
//	---------------------------------------------  ---------------------------------------------
//	address has PerIPMaxFailures in Window         *ThrottledError
//	  (an IPv6 address: its network, IPv6Prefix)
//	hashing full (running and queued)              ErrBusy (nothing is counted)
//	number malformed                               dummy hash, failure (below)
//	number unknown, locked in its throttle         *ThrottledError
//	number unknown                                 count in its throttle, dummy hash, failure
//	the attempt's budget is locked (below)         *ThrottledError
//	(count the attempt against its budget: failures+1, reset first when the last
//	 one is older than Window; from MaxFailures on, LockedUntil = now +
//	 BaseDelay·2^(n−MaxFailures), at most MaxDelay; the attempts in flight
//	 count as failures)
//	member has a password                          verify it (method pwd)
//	no password, 6 ASCII digits, PIN open, PIN set verify the PIN (method pin)
//	otherwise                                      dummy hash
//	status not active                              ErrInvalidCredentials (audit: disabled)
//	secret wrong, 6 ASCII digits, PIN closed       ErrPINExpired
//	secret wrong                                   ErrInvalidCredentials
//	secret right                                   clear the budget's count and lock, replace a
//	                                               stale hash; MustSetPassword after a PIN login
//
// An attempt's budget is the member's (FailedLogins, LockedUntil in the
// member record), unless it comes from a known device: LoginInput.DeviceID
// names a device recorded for this member, one that completed a login as
// the member before. Such an attempt counts against the device's own
// budget (in its device record, KnownDeviceMaxFailures in place of
// MaxFailures), neither blocked by the member's lock nor adding to it, and
// its success clears only the device's count. Strangers' guesses lock the
// member out of every other browser but not the member's own; guesses
// from a known browser lock that browser (see budget.go). The current
// password check of a password change counts against the member's budget.
// Passkey logins (package passkey) are not counted here and are never
// locked by password failures.
//
// "PIN open" means now is before Options.PINWebCutover (a zero cutover
// means never). The attempt is counted in flight before the secret is
// checked, so parallel guesses see each other and at most MaxFailures get
// checked; a success clears the count. A failed or throttled answer adds
// itself to its address's window (only failures count there: see
// addressWait). Unknown numbers go through the same counting as members,
// in a throttle record, and every credential failure is padded to the
// running average duration of failures of known members, so neither the
// answer nor its timing tells whether a number exists. ErrPINExpired is
// given for any 6-digit secret after the cutover that is not the password,
// members or not: the login page uses it to explain the migration.
//
// # Several replicas: what is kept where
//
// Every count that decides a login's answer is in storage, so it holds
// across every process sharing the backend: the member's and known
// devices' lock states in their records, the attempts in flight
// (storage.LoginAttempts, with a lease of flightLease after which a dead
// replica's counts lapse), the unknown numbers' lock states and the
// addresses' windows of failures (storage.Throttles). Twenty guesses
// spread over three replicas check at most MaxFailures passwords
// (TestLockoutHoldsAcrossReplicas). storage/bolt, one process per file,
// keeps the in-flight counts and the throttles in its memory, exactly and
// without a commit; storage/postgres in tables. What stays in this
// process's memory decides no limit: the hash limiter's admission (a
// bound on this process's CPU and memory, not on guesses), and the moving
// averages that pad failed and throttled answers (each replica pads to
// its own average of its own known-member failures, which is what an
// observer of that replica's answers measures).
//
// # Telephone PIN (Service.VerifyTelephonePIN)
//
//	check                                   answer
//	--------------------------------------  ------------------------------
//	number malformed or unknown             dummy hash, not_verified
//	PhoneLockedUntil ahead                  locked
//	(count: PhoneFailures+1, after a lock ran out from 1; at TelephoneMaxFailures
//	 PhoneLockedUntil = now + TelephoneLockout)
//	not 6 digits, no PIN, wrong PIN,        not_verified, or locked when this
//	or member not active                    failure reached the limit
//	right PIN                               verified; the count is cleared
//
// The telephone channel has its own count and lock; the web cutover does not
// apply to it.
//
// # Credential changes (Service.CredentialChanged)
//
// Every change of a member's credentials is one operation: a password
// changed (ChangePassword), reset (SetPassword, ChangeReset), set by an
// operator or stored at the end of a login (SetPasswordHash), a passkey
// removed, a contact or the one-time-password destination changed, and
// "this wasn't me" (ReportNotMe). In one commit
// (storage.CredentialChanges) it applies the change, replaces the
// member's SecurityStamp, records the events with sessions.revoked, ends
// every session of the member and revokes every token of the member:
// stored refresh tokens are deleted, self-contained access tokens are
// refused from then on. Third-party apps' tokens go too (their consents
// stay). The ended sessions, with the clients that held tokens from each,
// go to Options.SessionsEnded, and Options.SessionsEnding hears of the
// change just before it: cmd queues back-channel logouts from both.
//
// The security stamp ties what is still in progress to the credentials it
// began under: a login records it at its first step and is void once it
// changes, a browser session carries it and is no login once it changes,
// and a password a login holds until its second factor is stored only if
// it is unchanged (Change.Guard), so it never overwrites a newer one. A
// caller that keeps the browser the member made the change in gives that
// session Ended.Stamp. A login that sets a password (PIN migration, a
// forced change) checks it first (HashNewPassword) and stores the hash
// only once the whole login, second factor included, has succeeded.
//
// # What an operator changes (operator.go)
//
// The admin operations (provider/admin) change accounts through this
// package too: UpdateProfile (names, country, locale; a new email or
// phone is a credential change, ChangeContact), RemoveContacts (a lost
// phone or mailbox stops receiving one-time passwords: a credential
// change), Unlock (the web, telephone and known devices' lockouts; no
// credential changes, so sessions stay), and SetPassword with
// ChangeTemporary, which the member must change at the next login. A
// Change's Check runs on the stored member inside the atomic update, so an
// operator's If-Match (the member's version as last read) refuses a change
// made over someone else's (ErrPrecondition).
//
// Imports read CSV with a header row, or JSON lines (one object per line
// with the same keys): ImportOptions.Format. Imported members get ids that
// sort by time (newImportedMemberID), so that a batch appends to the
// stores' B-trees rather than touching a page per row, and no WebAuthn
// user handle: their first passkey registration makes one, as for any
// member without one. A row with a PIN is looked up before it is hashed
// (a re-run spends no hash); a row with nothing to hash goes straight to
// CreateMembers, whose refusal of a taken number counts it as skipped.
//
// # Secrets
//
// Passwords are NFC-normalised before hashing and verifying. Hashes are
// argon2id PHC strings; a hash with other parameters than the Hasher's (or
// an imported bcrypt hash) is replaced at the next successful login. The
// Hasher bounds concurrent hashing (memory-hard by design) and refuses with
// ErrBusy when its waiting line is full, so an overloaded server answers 503
// instead of running out of memory. Hashing is golang.org/x/crypto/argon2,
// which takes its memory afresh from the heap for each hash (the server's
// derived memory limit leaves room for that: cmd/tsubasa/internal/app), and
// a login holds a slot only while it hashes, not while it records the
// attempt. Audit events never hold a
// secret.
package member
