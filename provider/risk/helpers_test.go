package risk

import (
	"testing"
	"time"

	"tsubasa/provider/notify"
	"tsubasa/storage"
	"tsubasa/storage/storagetest"
)

// Real User-Agent strings.
const (
	uaIPhoneSafari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaIPhoneChrome  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
	uaIPhoneChrome2 = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/127.0.6533.77 Mobile/15E148 Safari/604.1"
	uaAndroidChrome = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36"
	uaReducedChrome = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
	uaWindowsEdge   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68"
	uaMacSafari     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	uaWinFirefox    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
	uaLinuxFirefox  = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
	uaIPadSafari    = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// jst is fixed so golden files do not depend on the zone database.
var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

// fixedTime is 2025-07-01 00:00:00 JST, the time of the seed sample mail.
var fixedTime = time.Date(2025, 7, 1, 0, 0, 0, 0, jst)

func renderer(t *testing.T) *notify.Renderer {
	t.Helper()
	r, err := notify.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newEngine returns an engine over store with alerts on, a fixed clock at
// fixedTime, and o's other fields as given.
func newEngine(t *testing.T, store Store, o Options) (*Engine, *storagetest.Clock) {
	t.Helper()
	clock := storagetest.NewClock(fixedTime)
	if o.HMACKey == nil {
		o.HMACKey = testKey
	}
	if o.Brand == "" {
		o.Brand = "Tsubasa"
	}
	if o.Location == nil {
		o.Location, o.ZoneLabel = jst, "JST"
	}
	if o.BaseURL == "" {
		o.BaseURL = "https://id.example.com/"
	}
	o.AlertsEnabled = true
	o.Now = clock.Now
	return New(store, renderer(t), o), clock
}

func testMember(id, locale string) storage.Member {
	return storage.Member{
		ID: id, Number: "123456321", Email: id + "@example.com", EmailVerified: true,
		Locale: locale, Status: storage.MemberActive,
	}
}

// login assesses and records a login, returning the assessment.
func login(t *testing.T, e *Engine, m storage.Member, env Environment) Assessment {
	t.Helper()
	a, err := e.Assess(t.Context(), m.ID, env)
	if err != nil {
		t.Fatalf("Assess: %v", err)
	}
	if err := e.RecordLogin(t.Context(), LoginEvent{Member: m, ClientID: "demo", Method: "pwd", Env: env, Assessment: a}); err != nil {
		t.Fatalf("RecordLogin: %v", err)
	}
	return a
}
