// Package passkey owns members' passkeys (WebAuthn discoverable credentials,
// verified with go-webauthn): the registration ceremony, the usernameless
// login ceremony (button or conditional mediation, i.e. autofill), and the
// account page's list, rename and delete.
//
// It depends on storage (Members, Passkeys, Events, SingleUse) and
// provider/acr, and takes plain Options; cmd fills the relying party from
// the configuration (config.PasskeyRPID, PasskeyRPDisplayName,
// PasskeyOrigins: the issuer's host and origin unless configured) and the
// programme's apps (Options.Apps, apps.go: the Android apps' origins are
// accepted, and WellKnown serves the apple-app-site-association,
// assetlinks.json and webauthn documents). The login UI owns the HTTP side: it
// checks the SMS one-time password before a registration, keeps the
// ceremony state in the browser's server-side session, and records the
// login (acr ACR = "phr", amr from FinishLogin) on the auth request.
//
// # Registration (after the SMS one-time password step-up)
//
//	state                  event                              next
//	---------------------  ---------------------------------  -------------------------------
//	(none)                 BeginRegistration(member)          pending: options to the page,
//	                       user handle created once if        state to the session
//	                       missing; existing passkeys in
//	                       excludeCredentials
//	pending                page: navigator.credentials.create the page posts the credential
//	pending                FinishRegistration                 state spent (whatever happens)
//	  name given, invalid                                     ErrName, state not spent
//	                                                          (check with CleanName first)
//	  state malformed                                         ErrInvalid
//	  other kind/member                                       ErrStateMismatch
//	  Timeout elapsed                                         ErrStateExpired
//	  already finished                                        ErrStateUsed
//	  member locked/disabled                                  ErrMemberInactive
//	  UV flag not set                                         ErrUserVerification
//	  go-webauthn refuses                                     ErrInvalid (wraps its error)
//	  credProps.rk = false                                    ErrInvalid
//	  credential id stored                                    ErrAlreadyRegistered
//	  otherwise                                               stored; event passkey.added
//
// The options ask for a discoverable credential (residentKey "required"),
// user verification "required" and attestation "none". The stored Passkey
// keeps the credential id, public key, AAGUID, sign count, flags (UP, UV,
// backup eligible, backup state), transports, name and times. An empty
// name becomes the passkey provider's name (known AAGUIDs), else "Browser
// on OS" from the User-Agent, else "Passkey", numbered when taken.
//
// # Login (usernameless; button or conditional mediation)
//
//	state                  event                              next
//	---------------------  ---------------------------------  -------------------------------
//	(none)                 BeginLogin                         pending: options (no
//	                                                          allowCredentials, UV required)
//	pending                page: navigator.credentials.get    the page posts the credential
//	                       (adds mediation "conditional" for
//	                       autofill)
//	pending                FinishLogin                        state spent (whatever happens)
//	  state malformed                                         ErrInvalid
//	  registration state                                      ErrStateMismatch
//	  Timeout elapsed                                         ErrStateExpired
//	  already finished                                        ErrStateUsed
//	  no user handle                                          ErrInvalid
//	  handle or credential unknown,                           ErrUnknownCredential
//	  or not the same member's
//	  member locked/disabled (status, set by an operator;     ErrMemberInactive
//	  the password lockout's LockedUntil does not count:
//	  a passkey cannot be guessed)
//	  UV flag not set                                         ErrUserVerification
//	  go-webauthn refuses                                     ErrInvalid (wraps its error)
//	  counter not forward (both ≠ 0)                          ErrCloned (logged as a warning)
//	  otherwise                                               member, passkey, amr; the
//	                                                          passkey's SignCount,
//	                                                          BackupState, LastUsedAt stored
//
// A passkey login reaches acr "phr". Its amr (RFC 8176) is ["swk", "user"]
// for a backup-eligible (syncable) passkey and ["hwk", "user"] for a
// device-bound one: the key is software outside one device's hardware once
// it can sync, and "user" because user verification is always required.
//
// # Ceremony state
//
// Begin returns an opaque string holding go-webauthn's SessionData (the
// challenge, RP ID, user handle, UV requirement and requested extensions),
// the ceremony kind, the member (registration) and the start time. Without
// Options.StateKey it is plain base64url JSON ("p1." prefix) and MUST stay
// server-side, in the browser's server-side session, never in a cookie or
// the page. With a StateKey it is sealed with AES-256-GCM ("s1."), and a
// plain state is refused. The state expires Options.Timeout (5 minutes)
// after Begin, checked against Options.Now.
//
// Single use: Finish claims the state's challenge in storage
// (storage.SingleUse, key "passkey/<challenge>") until the state expires,
// before it verifies anything, so a state is finished once by every
// replica together: a replay, or the same request sent to several
// replicas at once, fails with ErrStateUsed. The login UI also deletes the
// state from the session before or right after calling Finish, whatever
// the outcome, and begins a new ceremony for a new attempt. (storage/bolt
// keeps its claims in memory: a restart forgets them, and a state the
// session still held could be finished once more within its Timeout;
// the deletion from the session, which is stored, covers that.) Nothing
// of a ceremony is kept in this process's memory. Binding to the browser
// comes from the session; binding to the member (registration) from the
// state, checked by FinishRegistration.
//
// # What the page sends
//
// Options are the JSON of CredentialCreationOptions or
// CredentialRequestOptions, {"publicKey": {…}}, with every binary member
// (challenge, user.id, excludeCredentials[].id) as unpadded base64url. The
// page passes options.publicKey to
// PublicKeyCredential.parseCreationOptionsFromJSON /
// parseRequestOptionsFromJSON (or decodes those members itself) and posts
// credential.toJSON() back unchanged: id, rawId, type, response
// (clientDataJSON, attestationObject, transports … or clientDataJSON,
// authenticatorData, signature, userHandle), authenticatorAttachment and
// clientExtensionResults, binary members as unpadded base64url, as toJSON()
// writes them (never the standard "+/" alphabet). Client extension outputs the
// server did not ask for (credProps, vendors' own) are ignored rather than
// refused, because real clients send them.
package passkey
