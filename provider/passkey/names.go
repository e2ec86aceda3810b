package passkey

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"tsubasa/storage"
)

// fallbackName names a passkey when neither the member, the AAGUID nor the
// user agent says anything useful.
const fallbackName = "Passkey"

// providers names well-known passkey providers by AAGUID, from the
// community list at github.com/passkeydeveloper/passkey-authenticator-aaguids.
// Only for a default display name: the AAGUID is not attested (attestation
// is "none"), so nothing is decided on it.
var providers = map[string]string{
	"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
	"adce0002-35bc-c60a-648b-0b25f1f05503": "Chrome on Mac",
	"fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
	"dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "iCloud Keychain (Managed)",
	"08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
	"9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
	"6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
	"53414d53-554e-4700-0000-000000000000": "Samsung Pass",
	"bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
	"d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
	"531126d6-e717-415c-9320-3d9aa6981239": "Dashlane",
	"b84e4048-15dc-4dd0-8640-f4f60813c8af": "NordPass",
	"0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6": "Keeper",
	"fdb141b2-5d84-443e-8a35-4698c205a502": "KeePassXC",
	"50726f74-6f6e-5061-7373-50726f746f6e": "Proton Pass",
}

// CleanName trims a member-chosen passkey name and checks it: 1 to
// MaxNameLength characters, valid UTF-8, no control or bidirectional
// override characters. The login UI calls it before starting a
// registration, so a bad name never costs a ceremony.
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: empty or not UTF-8", ErrName)
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrName, n, MaxNameLength)
	}
	for _, r := range name {
		if unicode.IsControl(r) || isBidiControl(r) {
			return "", fmt.Errorf("%w: control character %U", ErrName, r)
		}
	}
	return name, nil
}

// isBidiControl reports the explicit directional formatting characters,
// which could make a name display as something else.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F
}

// defaultName names a new passkey the member did not name: the passkey
// provider known by its AAGUID, else browser and OS from the user agent,
// else "Passkey"; made unique among the member's passkeys with " (2)" …
func defaultName(aaguid []byte, userAgent string, existing []storage.Passkey) string {
	name := providers[formatUUID(aaguid)]
	if name == "" {
		name = nameFromUserAgent(userAgent)
	}
	if name == "" {
		name = fallbackName
	}
	return uniqueName(name, existing)
}

// formatUUID writes 16 bytes as a lower-case UUID, or "" for anything else.
func formatUUID(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// nameFromUserAgent returns "Browser on OS" (or either alone) from a
// User-Agent header. The checks run in order because every Chromium
// browser also says Chrome and Safari, and iOS browsers say Safari.
func nameFromUserAgent(ua string) string {
	var os, browser string
	switch {
	case strings.Contains(ua, "iPhone"):
		os = "iPhone"
	case strings.Contains(ua, "iPad"):
		os = "iPad"
	case strings.Contains(ua, "Android"):
		os = "Android"
	case strings.Contains(ua, "CrOS"):
		os = "ChromeOS"
	case strings.Contains(ua, "Windows"):
		os = "Windows"
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "Mac OS X"):
		os = "Mac"
	case strings.Contains(ua, "Linux"):
		os = "Linux"
	}
	switch {
	case strings.Contains(ua, "Edg/"), strings.Contains(ua, "EdgiOS/"), strings.Contains(ua, "EdgA/"):
		browser = "Edge"
	case strings.Contains(ua, "SamsungBrowser/"):
		browser = "Samsung Internet"
	case strings.Contains(ua, "OPR/"):
		browser = "Opera"
	case strings.Contains(ua, "Firefox/"), strings.Contains(ua, "FxiOS/"):
		browser = "Firefox"
	case strings.Contains(ua, "Chrome/"), strings.Contains(ua, "CriOS/"):
		browser = "Chrome"
	case strings.Contains(ua, "Safari/"):
		browser = "Safari"
	}
	switch {
	case os != "" && browser != "":
		return browser + " on " + os
	case os != "":
		return os
	default:
		return browser
	}
}

// uniqueName appends " (2)", " (3)" … to name until no passkey in existing
// carries it, keeping within MaxNameLength.
func uniqueName(name string, existing []storage.Passkey) string {
	taken := make(map[string]bool, len(existing))
	for _, p := range existing {
		taken[p.Name] = true
	}
	name = truncate(name, MaxNameLength)
	if !taken[name] {
		return name
	}
	for i := 2; ; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		candidate := truncate(name, MaxNameLength-utf8.RuneCountInString(suffix)) + suffix
		if !taken[candidate] {
			return candidate
		}
	}
}

func truncate(s string, runes int) string {
	i := 0
	for pos := range s {
		if i == runes {
			return strings.TrimSpace(s[:pos])
		}
		i++
	}
	return s
}
