package storagetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"tsubasa/storage"
)

// RefreshTokenID returns a refresh token's key as the server makes one:
// the time in hex nanoseconds, a dot and an HMAC-SHA-256 in hex. The
// backends' size benchmarks store these, so what they measure has the
// keys the server writes.
func RefreshTokenID(at time.Time) string {
	mac := make([]byte, 32)
	_, _ = rand.Read(mac)
	return fmt.Sprintf("%016x.%s", uint64(at.UnixNano()), hex.EncodeToString(mac))
}

// GrantToken returns a refresh token with every field a member's grant
// has (scopes, authentication, session, family, request), issued at now
// for 30 days, for the size and WAL benchmarks of both backends.
func GrantToken(id, member, session, family, request string, now time.Time) storage.Token {
	return storage.Token{ID: id, Kind: storage.RefreshToken, ClientID: "member-website",
		MemberID: member, Subject: member, Audience: []string{"member-website"},
		Scopes: []string{"openid", "profile", "email", "membership", "offline_access"}, AuthTime: now,
		ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"}, SessionID: session, FamilyID: family,
		AuthRequestID: request, CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
}
