package passkey

import "strings"

// inAppMarkers are what the in-app browsers of common apps add to their
// User-Agent: LINE, Facebook and Messenger, Instagram, WeChat, KakaoTalk,
// NAVER, Daum, X (Twitter), Snapchat and TikTok. Japanese and Korean
// members open links in LINE and KakaoTalk a lot.
var inAppMarkers = []string{
	" line/", "fban/", "fbav/", "fb_iab", "fbios", "instagram", "micromessenger", "kakaotalk",
	"naver(inapp", "daumapps", "twitter", "snapchat", "musical_ly", "bytedancewebview", "tiktok",
}

// InAppBrowser reports whether a User-Agent is an app's embedded browser.
// Passkeys are not offered there: the passkey would belong to the app's
// web view, or the ceremony would fail, and the seed's guide says passkeys
// are not available in in-app browsers. The page's script checks the same
// markers, and the browser's own capabilities besides.
func InAppBrowser(userAgent string) bool {
	ua := strings.ToLower(userAgent)
	for _, m := range inAppMarkers {
		if strings.Contains(ua, m) {
			return true
		}
	}
	return false
}
