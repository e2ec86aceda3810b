package risk

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"tsubasa/provider/notify"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

func TestDescribeDevice(t *testing.T) {
	for _, tc := range []struct {
		name, ua                     string
		want                         storage.Device
		wantDevice, wantBrowserLabel string
	}{
		{"iPhone Safari", uaIPhoneSafari,
			storage.Device{Type: "mobile", Model: "iPhone", OS: "iOS", OSVersion: "17.5", Browser: "Safari", BrowserVersion: "17.5"},
			"iPhone(mobile)", "safari"},
		{"iPhone Chrome (CriOS)", uaIPhoneChrome,
			storage.Device{Type: "mobile", Model: "iPhone", OS: "iOS", OSVersion: "17.5", Browser: "Chrome", BrowserVersion: "126.0.6478.54"},
			"iPhone(mobile)", "chrome"},
		{"Android Chrome", uaAndroidChrome,
			storage.Device{Type: "mobile", Model: "Pixel 8", OS: "Android", OSVersion: "14", Browser: "Chrome", BrowserVersion: "126.0.6478.71"},
			"Pixel 8(mobile)", "chrome"},
		{"Android Chrome, reduced User-Agent", uaReducedChrome,
			storage.Device{Type: "mobile", OS: "Android", OSVersion: "10", Browser: "Chrome", BrowserVersion: "126.0.0.0"},
			"Android(mobile)", "chrome"},
		{"Windows Edge", uaWindowsEdge,
			storage.Device{Type: "desktop", OS: "Windows", OSVersion: "10.0", Browser: "Edge", BrowserVersion: "126.0.2592.68"},
			"Windows(desktop)", "edge"},
		{"macOS Safari", uaMacSafari,
			storage.Device{Type: "desktop", OS: "macOS", OSVersion: "10.15.7", Browser: "Safari", BrowserVersion: "17.5"},
			"macOS(desktop)", "safari"},
		{"Windows Firefox", uaWinFirefox,
			storage.Device{Type: "desktop", OS: "Windows", OSVersion: "10.0", Browser: "Firefox", BrowserVersion: "127.0"},
			"Windows(desktop)", "firefox"},
		{"Linux Firefox", uaLinuxFirefox,
			storage.Device{Type: "desktop", OS: "Linux", Browser: "Firefox", BrowserVersion: "127.0"},
			"Linux(desktop)", "firefox"},
		{"iPad Safari", uaIPadSafari,
			storage.Device{Type: "tablet", Model: "iPad", OS: "iOS", OSVersion: "17.5", Browser: "Safari", BrowserVersion: "17.5"},
			"iPad(tablet)", "safari"},
		{"Googlebot", uaGooglebot,
			storage.Device{Type: "bot", Browser: "Googlebot", BrowserVersion: "2.1"},
			"unknown(bot)", "googlebot"},
		{"empty", "", storage.Device{Type: "unknown"}, "unknown(unknown)", ""},
		{"garbage", "\x01\x02 nothing here", storage.Device{Type: "unknown"}, "unknown(unknown)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DescribeDevice(tc.ua)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DescribeDevice =\n%+v\nwant\n%+v", got, tc.want)
			}
			if d := DisplayDevice(got); d != tc.wantDevice {
				t.Errorf("DisplayDevice = %q, want %q", d, tc.wantDevice)
			}
			if b := DisplayBrowser(got); b != tc.wantBrowserLabel {
				t.Errorf("DisplayBrowser = %q, want %q", b, tc.wantBrowserLabel)
			}
		})
	}
}

func TestDescribeDeviceBoundsHostileInput(t *testing.T) {
	ua := "Mozilla/5.0 (Linux; Android 14; " + strings.Repeat("X\n", 500) + ") Chrome/1.0 Mobile Safari/537.36"
	d := DescribeDevice(ua)
	for _, f := range []string{d.Model, d.OS, d.OSVersion, d.Browser, d.BrowserVersion} {
		if len(f) > maxField || strings.ContainsAny(f, "\r\n") {
			t.Errorf("field %q: want at most %d bytes and no line breaks", f, maxField)
		}
	}
}

func TestDeviceCookie(t *testing.T) {
	a, b := NewDeviceCookie(), NewDeviceCookie()
	if a == b || len(a) != 43 || !ValidCookie(a) {
		t.Errorf("cookies %q %q: want distinct, 43 base64url characters", a, b)
	}
	for _, bad := range []string{"", "short", a[:42], a + "A", strings.Repeat("!", 43)} {
		if ValidCookie(bad) {
			t.Errorf("ValidCookie(%q) = true", bad)
		}
	}

	e := New(bolttest.Open(t, bolt.Options{}), nil, Options{HMACKey: testKey})
	other := New(bolttest.Open(t, bolt.Options{}), nil, Options{HMACKey: []byte("another key, 32 bytes or longer!")})
	id := e.DeviceID(a)
	switch {
	case id == "" || id != e.DeviceID(a):
		t.Errorf("DeviceID(%q) = %q: want stable and non-empty", a, id)
	case id == a || strings.Contains(id, a):
		t.Error("DeviceID reveals the cookie")
	case id == e.DeviceID(b) || id == other.DeviceID(a):
		t.Error("DeviceID must depend on both the cookie and the key")
	case e.DeviceID("") != "" || e.DeviceID("malformed") != "":
		t.Error("a missing or malformed cookie must have no id")
	}

	for _, secure := range []bool{false, true} {
		c := Cookie(a, secure)
		if c.Value != a || !c.HttpOnly || c.Secure != secure || c.Path != "/" || c.Domain != "" ||
			c.SameSite != http.SameSiteLaxMode || c.MaxAge != 2*365*24*60*60 {
			t.Errorf("Cookie(secure=%v) = %+v", secure, c)
		}
		if secure != strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("Cookie(secure=%v) name %q", secure, c.Name)
		}
		if err := c.Valid(); err != nil {
			t.Errorf("Cookie(secure=%v): %v", secure, err)
		}
	}
}

func TestNewPanicsOnWiringMistakes(t *testing.T) {
	for name, fn := range map[string]func(){
		"short key":           func() { New(nil, nil, Options{HMACKey: []byte("short")}) },
		"alerts, no renderer": func() { New(nil, nil, Options{HMACKey: testKey, AlertsEnabled: true, BaseURL: "https://x"}) },
		"alerts, no base URL": func() { New(nil, &notify.Renderer{}, Options{HMACKey: testKey, AlertsEnabled: true}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			fn()
		})
	}
}
