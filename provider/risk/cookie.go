package risk

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// The device cookie. On an https issuer the name carries the __Host-
// prefix, which makes browsers insist on Secure, Path=/ and no Domain, so a
// sibling subdomain cannot plant one.
const (
	CookieName       = "tsubasa_device"
	SecureCookieName = "__Host-tsubasa_device"
	CookieMaxAge     = 2 * 365 * 24 * time.Hour
)

// cookieBytes is the entropy of a device cookie.
const cookieBytes = 32

// cookieLen is the length of its base64url form (unpadded).
var cookieLen = base64.RawURLEncoding.EncodedLen(cookieBytes)

// NewDeviceCookie returns a fresh device cookie value: 32 random bytes in
// unpadded base64url.
func NewDeviceCookie() string {
	var b [cookieBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidCookie reports whether v has the shape NewDeviceCookie makes. A
// value of any other shape is treated as no cookie.
func ValidCookie(v string) bool {
	if len(v) != cookieLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// CookieNameFor is the device cookie's name for an issuer served over https
// (secure) or plain http (development).
func CookieNameFor(secure bool) string {
	if secure {
		return SecureCookieName
	}
	return CookieName
}

// Cookie builds the Set-Cookie for a device cookie value: HttpOnly, Secure
// and __Host- on https, SameSite=Lax, Path=/, two years.
func Cookie(value string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     CookieNameFor(secure),
		Value:    value,
		Path:     "/",
		MaxAge:   int(CookieMaxAge / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// deviceIDLabel separates this use of the key from any other.
const deviceIDLabel = "tsubasa device id v1\x00"

// DeviceID is the stored id of the device that holds cookie: an
// HMAC-SHA-256 of the cookie value, in unpadded base64url. The database
// never holds a cookie, so a leaked database gives no cookie that would
// pass as a known device. An empty or malformed cookie has no id ("").
func (e *Engine) DeviceID(cookie string) string {
	if !ValidCookie(cookie) {
		return ""
	}
	mac := hmac.New(sha256.New, e.key)
	mac.Write([]byte(deviceIDLabel))
	mac.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
