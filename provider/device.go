package provider

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
)

// The device authorization grant (RFC 8628), for screens without a
// keyboard. The device posts to the device authorization endpoint
// (serveDeviceAuthorization), authenticated as at the token endpoint
// (public clients too: a television keeps no secret), and gets a
// device_code to poll with and a user code to show. The member enters
// the user code at the login UI's /device page on a phone, logs in there
// with everything the member has and approves, naming the device's client
// (the login UI owns that side: login-ui/device.go). The device meanwhile
// polls the token endpoint (devicegrant.go).
//
//   - device_code: 32 random bytes after its expiry time; storage keeps
//     its HMAC only. The time lets an expired code be told apart
//     (expired_token) once the janitor has removed it; it is no secret.
//   - user code: 8 letters from userCodeAlphabet (RFC 8628 §6.1: no
//     vowels, no look-alikes), 20^8 ≈ 2^34.6, shown XXXX-XXXX; storage
//     keeps the HMAC of its normalised form. Guessing it is bounded by the
//     login UI's entry limits, and a code lives Options.DeviceCodeTTL.

// userCodeAlphabet: consonants only (no words, no 0/O or 1/I confusions).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLen is the number of letters of a user code.
const userCodeLen = 8

// deviceCodePrefix starts every device_code; 16 hex digits of its expiry
// (Unix nanoseconds) follow, then the random part.
const deviceCodePrefix = "dc1_"

// deviceParams are the parameters the device authorization endpoint reads
// (RFC 8628 §3.1), each allowed once.
var deviceParams = append([]string{"scope"}, clientAuthParams...)

// deviceAuthResponse is RFC 8628 §3.2's answer.
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// serveDeviceAuthorization answers the device authorization endpoint.
// postBody has made sure of a POST with a parsed form whose parameters
// appear once.
func (p *Provider) serveDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	c, oerr := p.authenticateClient(r, tokenAuthMethods)
	if oerr == nil && !slices.Contains(c.GrantTypes, GrantDeviceCode) {
		oerr = oidc.ErrUnauthorizedClient().WithDescription("this client may not use the device authorization grant (%s)", GrantDeviceCode)
	}
	var scopes []string
	if oerr == nil {
		scopes, oerr = deviceScopes(c, strings.Fields(r.PostForm.Get("scope")))
	}
	if oerr != nil {
		p.writeTokenError(w, r, oerr)
		return
	}
	ctx := r.Context()
	if retry, ok := p.admitDeviceAuthorization(ctx, r); !ok {
		writeDeviceLimit(w, retry)
		return
	}
	now := p.now().UTC()
	g := storage.DeviceGrant{ClientID: c.ID, Scopes: scopes, Interval: p.opts.DeviceInterval, LastPoll: now,
		Status: storage.DevicePending, CreatedAt: now, ExpiresAt: now.Add(p.opts.DeviceCodeTTL)}
	var deviceCode, userCode string
	for try := 0; ; try++ {
		deviceCode, userCode = newDeviceCode(g.ExpiresAt), newUserCode()
		g.ID, g.UserCode = p.tokenHash("device_code", deviceCode), p.userCodeKey(userCode)
		err := p.store.CreateDeviceGrant(ctx, g)
		if err == nil {
			break
		}
		// A user code still stored (one in 2^34 per live code): draw again.
		if !errors.Is(err, storage.ErrAlreadyExists) || try == 3 {
			p.writeTokenError(w, r, oidc.ErrServerError().WithParent(err))
			return
		}
	}
	p.log.InfoContext(ctx, "device authorization started", "client_id", c.ID, "expires_at", g.ExpiresAt)
	display := displayUserCode(userCode)
	writeJSON(w, http.StatusOK, deviceAuthResponse{
		DeviceCode:              deviceCode,
		UserCode:                display,
		VerificationURI:         p.opts.DeviceVerificationURL,
		VerificationURIComplete: p.opts.DeviceVerificationURL + "?user_code=" + display,
		ExpiresIn:               int(p.opts.DeviceCodeTTL / time.Second),
		Interval:                int(p.opts.DeviceInterval / time.Second),
	})
}

// deviceScopes are the scopes a device grant is for: openid is required
// (the member is logged in, and the device gets an ID token), each scope
// must be the client's and a member's (service scopes never are), and a
// first-party client holding the refresh grant gets offline_access, as at
// /authorize (CreateAuthRequest).
func deviceScopes(c storage.Client, asked []string) ([]string, *oidc.Error) {
	if !slices.Contains(asked, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	scopes := make([]string, 0, len(asked)+1)
	for _, sc := range asked {
		switch {
		case !isScopeToken(sc):
			return nil, oidc.ErrInvalidScope().WithDescription("a requested scope is not a scope token (RFC 6749 section 3.3)")
		case sc != oidc.ScopeOpenID && (!slices.Contains(c.Scopes, sc) || !memberScope(sc)):
			return nil, oidc.ErrInvalidScope().WithDescription("scope %s is not allowed for this client", sc)
		case !slices.Contains(scopes, sc):
			scopes = append(scopes, sc)
		}
	}
	if !c.ThirdParty && slices.Contains(c.GrantTypes, GrantRefreshToken) && !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	return scopes, nil
}

// newDeviceCode is a device_code expiring at exp.
func newDeviceCode(exp time.Time) string {
	return fmt.Sprintf("%s%016x%s", deviceCodePrefix, uint64(exp.UnixNano()), newID(32))
}

// deviceCodeExpired reports whether a device_code's own expiry has passed
// (false for a value that carries none).
func deviceCodeExpired(code string, now time.Time) bool {
	rest, ok := strings.CutPrefix(code, deviceCodePrefix)
	if !ok || len(rest) < 16 || !isLowerHex(rest[:16]) {
		return false
	}
	n, err := strconv.ParseUint(rest[:16], 16, 64)
	return err == nil && !now.Before(time.Unix(0, int64(n)))
}

// newUserCode draws userCodeLen letters of userCodeAlphabet uniformly
// (bytes of 240 and above are drawn again: 240 is a multiple of 20).
func newUserCode() string {
	out := make([]byte, 0, userCodeLen)
	buf := make([]byte, 16)
	for len(out) < userCodeLen {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		for _, b := range buf {
			if b < 240 && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			}
		}
	}
	return string(out)
}

// displayUserCode writes a normalised user code as XXXX-XXXX.
func displayUserCode(code string) string { return code[:4] + "-" + code[4:] }

// normaliseUserCode reads what a member typed as a user code: any case,
// full-width letters (a Japanese keyboard's), hyphens (and the dashes and
// the long vowel mark an IME gives for one) and spaces anywhere. ok is
// false when it cannot be a user code.
func normaliseUserCode(input string) (string, bool) {
	if len(input) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range input {
		switch {
		case r >= 'Ａ' && r <= 'Ｚ':
			r = r - 'Ａ' + 'A'
		case r >= 'ａ' && r <= 'ｚ':
			r = r - 'ａ' + 'A'
		case r >= 'a' && r <= 'z':
			r = r - 'a' + 'A'
		}
		switch {
		case strings.ContainsRune(" \t\u3000-‐‑‒–—−－ー", r):
		case r < 0x80 && strings.IndexByte(userCodeAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != userCodeLen {
		return "", false
	}
	return b.String(), true
}

// userCodeKey is the storage key of a normalised user code.
func (p *Provider) userCodeKey(code string) string { return p.tokenHash("user_code", code) }

// DeviceUserCode reads what a member typed at /device: the storage key of
// the user code (storage.DeviceGrant.UserCode) and its display form
// XXXX-XXXX; ok is false when the input cannot be a user code. cmd hands
// it to the login UI, which never sees the HMAC key.
func (p *Provider) DeviceUserCode(input string) (key, display string, ok bool) {
	code, ok := normaliseUserCode(input)
	if !ok {
		return "", "", false
	}
	return p.userCodeKey(code), displayUserCode(code), true
}
