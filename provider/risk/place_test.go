package risk

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// TestRecordLoginPlace: the place of the login's address (Options.Locate,
// given the address the request resolved) is stored with the event and the
// device and shown in the alert; without a locator there is none.
func TestRecordLoginPlace(t *testing.T) {
	tokyo := storage.Place{Country: "JP", Names: map[string]string{"ja": "日本", "en": "Japan"},
		Cities: map[string]string{"ja": "東京", "en": "Tokyo"}}
	var asked []string
	st := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
	e, _ := newEngine(t, st, Options{Locate: func(ip string) storage.Place {
		asked = append(asked, ip)
		return tokyo
	}})
	m := testMember("alice", "ja")
	login(t, e, m, Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"})
	rec := st.records[0]
	if !reflect.DeepEqual(asked, []string{"203.0.113.7"}) {
		t.Errorf("located %q, want the login's address", asked)
	}
	if !reflect.DeepEqual(rec.Event.Place, tokyo) || !reflect.DeepEqual(rec.Device.Place, tokyo) {
		t.Errorf("event place %+v, device place %+v; want Tokyo on both", rec.Event.Place, rec.Device.Place)
	}
	if !strings.Contains(rec.Alert.Text, "[Location] 東京（日本）") || !strings.Contains(rec.Alert.HTML, "東京（日本）") {
		t.Errorf("the alert does not show the place:\n%s", rec.Alert.Text)
	}

	st2 := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
	e2, _ := newEngine(t, st2, Options{})
	login(t, e2, m, Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"})
	if r := st2.records[0]; !r.Event.Place.IsZero() || !r.Device.Place.IsZero() || strings.Contains(r.Alert.Text, "Location") {
		t.Errorf("without a locator: event %+v, device %+v, alert mentions a location", r.Event.Place, r.Device.Place)
	}
}

// TestKnownDeviceKeepsPasskeyOffer: the passkey offer's times belong to the
// browser, so a later login from it keeps them (the login UI decides the
// offer from them), while a new browser starts without.
func TestKnownDeviceKeepsPasskeyOffer(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	e, _ := newEngine(t, st, Options{})
	m := testMember("alice", "ja")
	env := Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"}
	a := login(t, e, m, env)
	offered, declined := fixedTime.Add(time.Minute).UTC(), fixedTime.Add(2*time.Minute).UTC()
	if err := st.UpdateDevice(t.Context(), m.ID, a.DeviceID, func(d storage.Device) (storage.Device, error) {
		d.PasskeyOfferedAt, d.PasskeyDeclinedAt = offered, declined
		return d, nil
	}); err != nil {
		t.Fatal(err)
	}
	env.DeviceCookie = a.SetCookie
	again := login(t, e, m, env)
	d, err := st.DeviceByID(t.Context(), m.ID, again.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if again.DeviceID != a.DeviceID || !d.PasskeyOfferedAt.Equal(offered) || !d.PasskeyDeclinedAt.Equal(declined) {
		t.Errorf("after another login: offered %v, declined %v; want %v, %v", d.PasskeyOfferedAt, d.PasskeyDeclinedAt, offered, declined)
	}
	other := login(t, e, m, Environment{UserAgent: uaWindowsEdge, IP: "203.0.113.8"})
	if nd, _ := st.DeviceByID(t.Context(), m.ID, other.DeviceID); !nd.PasskeyOfferedAt.IsZero() {
		t.Errorf("a new browser starts with an offer time %v", nd.PasskeyOfferedAt)
	}
}
