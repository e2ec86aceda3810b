package passkey

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"
)

const (
	milesFP     = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"
	milesOrigin = "android:apk-key-hash:FG3pg8VzBlDY7rmVLzT8ZBagg0LmHb6oigSWsj_PROU"
)

func TestAndroidOrigin(t *testing.T) {
	for _, fp := range []string{milesFP, strings.ToLower(milesFP)} {
		if got, err := AndroidOrigin(fp); err != nil || got != milesOrigin {
			t.Errorf("AndroidOrigin(%s) = %q, %v; want %q", fp, got, err, milesOrigin)
		}
	}
	for _, bad := range []string{"", milesFP[:59], strings.ReplaceAll(milesFP, ":", ""), "ZZ" + milesFP[2:]} {
		if _, err := AndroidOrigin(bad); err == nil {
			t.Errorf("AndroidOrigin(%q) accepted", bad)
		}
	}
}

// TestWellKnownDocuments: the three documents exactly as Apple, Google and
// browsers read them, as application/json, 404 for a platform without apps.
func TestWellKnownDocuments(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Origins = []string{testOrigin, "https://www.sora-air.example.co.jp"}
		o.Apps = Apps{IOS: []string{"ABCDE12345.com.example.miles"},
			Android: []AndroidApp{{Package: "com.example.miles", Fingerprints: []string{strings.ToLower(milesFP)}}}}
	})
	h, err := f.svc.WellKnown()
	if err != nil {
		t.Fatal(err)
	}
	get := func(svc http.Handler, method, path string) (int, http.Header, string) {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, rec.Header(), string(b)
	}
	for path, want := range map[string]string{
		PathAppleAppSiteAssociation: `{"webcredentials":{"apps":["ABCDE12345.com.example.miles"]}}`,
		PathAssetLinks:              `[{"relation":["delegate_permission/common.get_login_creds"],"target":{"namespace":"android_app","package_name":"com.example.miles","sha256_cert_fingerprints":["` + milesFP + `"]}}]`,
		PathWebAuthn:                `{"origins":["https://id.sora-air.example","https://www.sora-air.example.co.jp"]}`,
	} {
		code, hdr, body := get(h, http.MethodGet, path)
		if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" || body != want {
			t.Errorf("GET %s: %d %q\n%s\nwant %s", path, code, hdr.Get("Content-Type"), body, want)
		}
		if code, _, body := get(h, http.MethodHead, path); code != http.StatusOK || body != "" {
			t.Errorf("HEAD %s: %d, body %q", path, code, body)
		}
		if code, hdr, _ := get(h, http.MethodPost, path); code != http.StatusMethodNotAllowed || hdr.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d", path, code)
		}
	}
	bare, err := newFixture(t, nil).svc.WellKnown()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{PathAppleAppSiteAssociation, PathAssetLinks} {
		if code, _, _ := get(bare, http.MethodGet, path); code != http.StatusNotFound {
			t.Errorf("GET %s without apps: %d, want 404", path, code)
		}
	}
}

// TestAndroidAppLogin: a passkey registered on the website logs in from
// the configured Android app (its apk-key-hash origin), and not from an
// app signed with another certificate.
func TestAndroidAppLogin(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Apps = Apps{Android: []AndroidApp{{Package: "com.example.miles", Fingerprints: []string{milesFP}}}}
	})
	d := newDevice(virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	f.register(t, f.alice, d, "phone")
	f.rp.Origin = milesOrigin
	if m, _, _, err := f.login(t, d); err != nil || m.ID != f.alice.ID {
		t.Fatalf("login from the app: %v", err)
	}
	other, err := AndroidOrigin(strings.Replace(milesFP, "14:6D", "15:6D", 1))
	if err != nil {
		t.Fatal(err)
	}
	f.rp.Origin = other
	if _, _, _, err := f.login(t, d); !errors.Is(err, ErrInvalid) {
		t.Errorf("login from another app: %v, want ErrInvalid", err)
	}
}
