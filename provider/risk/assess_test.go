package risk

import (
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// TestRecognition is the rule table of the issue, on a real bolt store:
// known means this member's cookie and the same browser family.
func TestRecognition(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	e, clock := newEngine(t, st, Options{})
	alice, bob := testMember("alice", "ja"), testMember("bob", "ja")

	// Alice logs in once from Chrome on her iPhone, Bob from Edge on Windows.
	first := login(t, e, alice, Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"})
	aliceCookie := first.SetCookie
	bobCookie := login(t, e, bob, Environment{UserAgent: uaWindowsEdge, IP: "198.51.100.2"}).SetCookie
	clock.Advance(24 * time.Hour)

	for _, tc := range []struct {
		name       string
		member     storage.Member
		env        Environment
		wantReason string
	}{
		{"same cookie, same browser", alice,
			Environment{DeviceCookie: aliceCookie, UserAgent: uaIPhoneChrome}, ReasonKnown},
		{"same cookie, browser updated", alice,
			Environment{DeviceCookie: aliceCookie, UserAgent: uaIPhoneChrome2}, ReasonKnown},
		{"no cookie (first login, cookies deleted, factory reset)", alice,
			Environment{UserAgent: uaIPhoneChrome}, ReasonNoCookie},
		{"malformed cookie", alice,
			Environment{DeviceCookie: "not-a-device-cookie", UserAgent: uaIPhoneChrome}, ReasonNoCookie},
		{"new cookie (new phone)", alice,
			Environment{DeviceCookie: NewDeviceCookie(), UserAgent: uaIPhoneChrome}, ReasonUnknownDevice},
		{"browser changed", alice,
			Environment{DeviceCookie: aliceCookie, UserAgent: uaIPhoneSafari}, ReasonBrowserChanged},
		{"cookie of another member", alice,
			Environment{DeviceCookie: bobCookie, UserAgent: uaWindowsEdge}, ReasonUnknownDevice},
		{"the other member's own cookie", bob,
			Environment{DeviceCookie: bobCookie, UserAgent: uaWindowsEdge}, ReasonKnown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := e.Assess(t.Context(), tc.member.ID, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if a.Reason != tc.wantReason || a.NewEnvironment != (tc.wantReason != ReasonKnown) {
				t.Fatalf("Assess = %s (new %v), want %s", a.Reason, a.NewEnvironment, tc.wantReason)
			}
			if !ValidCookie(a.SetCookie) || a.DeviceID != e.DeviceID(a.SetCookie) {
				t.Errorf("SetCookie %q / DeviceID %q: want a valid cookie and its id", a.SetCookie, a.DeviceID)
			}
			d := a.Device
			if d.ID != a.DeviceID || d.MemberID != tc.member.ID || !d.LastSeenAt.Equal(clock.Now()) {
				t.Errorf("Device %+v: want id, member and LastSeenAt filled", d)
			}
			if d.Browser != DescribeDevice(tc.env.UserAgent).Browser {
				t.Errorf("Device browser %q", d.Browser)
			}
			if tc.wantReason == ReasonKnown {
				// The cookie is kept (and re-set), the device keeps its first sighting.
				if a.SetCookie != tc.env.DeviceCookie || d.FirstSeenAt.Equal(clock.Now()) {
					t.Errorf("known device: SetCookie %q, FirstSeenAt %v", a.SetCookie, d.FirstSeenAt)
				}
				return
			}
			// Anything else gets a fresh cookie, never the one it brought.
			if a.SetCookie == tc.env.DeviceCookie || !d.FirstSeenAt.Equal(clock.Now()) {
				t.Errorf("new environment: SetCookie %q (brought %q), FirstSeenAt %v", a.SetCookie, tc.env.DeviceCookie, d.FirstSeenAt)
			}
			// Assess only reads.
			if _, err := st.DeviceByID(t.Context(), tc.member.ID, a.DeviceID); err == nil {
				t.Error("Assess stored a device")
			}
		})
	}

	// Nothing above changed what is stored: one device each.
	for _, m := range []storage.Member{alice, bob} {
		if ds, err := st.ListDevices(t.Context(), m.ID); err != nil || len(ds) != 1 {
			t.Errorf("%s devices = %v, %v; want 1", m.ID, ds, err)
		}
	}
}

// After a browser change is recorded, the new browser is known with its own
// cookie and the old one is still known with the old cookie.
func TestBrowserChangeKeepsBothDevices(t *testing.T) {
	e, _ := newEngine(t, bolttest.Open(t, bolt.Options{}), Options{})
	m := testMember("alice", "ja")
	chrome := login(t, e, m, Environment{UserAgent: uaIPhoneChrome}).SetCookie
	safari := login(t, e, m, Environment{DeviceCookie: chrome, UserAgent: uaIPhoneSafari})
	if safari.Reason != ReasonBrowserChanged {
		t.Fatalf("reason %s", safari.Reason)
	}
	for cookie, ua := range map[string]string{chrome: uaIPhoneChrome, safari.SetCookie: uaIPhoneSafari} {
		if a, err := e.Assess(t.Context(), m.ID, Environment{DeviceCookie: cookie, UserAgent: ua}); err != nil || a.Reason != ReasonKnown {
			t.Errorf("Assess(%s) = %s, %v; want known", DescribeDevice(ua).Browser, a.Reason, err)
		}
	}
}

func TestAssessNeedsMember(t *testing.T) {
	e, _ := newEngine(t, bolttest.Open(t, bolt.Options{}), Options{})
	if _, err := e.Assess(t.Context(), "", Environment{}); err == nil {
		t.Error("Assess without a member id succeeded")
	}
}
