// Package acr owns Tsubasa's authentication assurance levels and the RFC 8176
// authentication method references that go with them.
//
// Levels, lowest to highest: Password (password, or the legacy PIN while
// migration is open) < OTP (password plus a one-time password) < PhishingResistant
// (a passkey). A relying party's acr_values is met by the requested level or
// any higher one; the first satisfiable value in the request wins, and
// unknown values are ignored as OpenID Connect Core 1.0 §3.1.2.1 allows for
// voluntary claims.
//
// Both the OpenID provider and the login UI import this package; it imports
// nothing of Tsubasa's.
package acr
