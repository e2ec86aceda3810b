package passkey

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
)

// The programme's own apps share the website's passkeys. Each platform
// learns which apps may use passkeys of the relying party from a document
// on the RP ID's host, and the ceremonies accept what those apps send:
//
//	/.well-known/apple-app-site-association  {"webcredentials":{"apps":["TEAMID.bundle.id"]}}
//	/.well-known/assetlinks.json             [{"relation":["delegate_permission/common.get_login_creds"],
//	                                           "target":{"namespace":"android_app","package_name":…,
//	                                           "sha256_cert_fingerprints":[…]}}]
//	/.well-known/webauthn                    {"origins":[…]}: every origin of Options.Origins
//	                                         (WebAuthn Level 3 §5.11, Related Origin Requests)
//
// An iOS app's ceremonies carry the website's origin (the system checks
// the association), so nothing more is accepted for it. An Android app's
// carry android:apk-key-hash: and the unpadded base64url of its signing
// certificate's SHA-256: exactly those of the configured apps are accepted
// (go-webauthn's opaque origins, compared as strings), no other app's.
// Apple and Google fetch the documents without following redirects and
// want application/json, which is how they are served.

// Apps are the apps that share the relying party's passkeys.
type Apps struct {
	// IOS are app ids: team id, a dot, bundle id (ABCDE12345.com.example.miles).
	IOS     []string
	Android []AndroidApp
}

// AndroidApp is an Android app: its package and the SHA-256 fingerprints of
// its signing certificates, as keytool prints them (14:6D:…:E5).
type AndroidApp struct {
	Package      string
	Fingerprints []string
}

// Well-known paths the Service serves (WellKnown).
const (
	PathAppleAppSiteAssociation = "/.well-known/apple-app-site-association"
	PathAssetLinks              = "/.well-known/assetlinks.json"
	PathWebAuthn                = protocol.WellKnownPathWebAuthn
)

// androidOriginPrefix is the origin an Android app's ceremony carries.
const androidOriginPrefix = protocol.OpaqueOriginPrefixAndroidAPKKeyHash

// AndroidOrigin is the origin an Android app signed with the certificate of
// fingerprint gives its ceremonies: android:apk-key-hash: and the unpadded
// base64url of the 32 bytes of the fingerprint.
func AndroidOrigin(fingerprint string) (string, error) {
	b, err := fingerprintBytes(fingerprint)
	if err != nil {
		return "", err
	}
	return androidOriginPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func fingerprintBytes(fp string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(fp, ":", ""))
	if err != nil || len(b) != 32 || len(fp) != 95 {
		return nil, fmt.Errorf("passkey: %q is not a SHA-256 fingerprint (32 bytes in hex, colon-separated)", fp)
	}
	return b, nil
}

// origins are the Android apps' origins, one per fingerprint.
func (a Apps) origins() ([]string, error) {
	var out []string
	for _, app := range a.Android {
		for _, fp := range app.Fingerprints {
			o, err := AndroidOrigin(fp)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// appleAppSiteAssociation is the document for iOS, or nil without iOS apps.
func (a Apps) appleAppSiteAssociation() ([]byte, error) {
	if len(a.IOS) == 0 {
		return nil, nil
	}
	type apps struct {
		Apps []string `json:"apps"`
	}
	return json.Marshal(struct {
		WebCredentials apps `json:"webcredentials"`
	}{apps{a.IOS}})
}

// assetLinks is the Digital Asset Links statement list for Android, or nil
// without Android apps. Fingerprints are written in capitals, as keytool
// and Google's tools write them.
func (a Apps) assetLinks() ([]byte, error) {
	if len(a.Android) == 0 {
		return nil, nil
	}
	type target struct {
		Namespace    string   `json:"namespace"`
		PackageName  string   `json:"package_name"`
		Fingerprints []string `json:"sha256_cert_fingerprints"`
	}
	type statement struct {
		Relation []string `json:"relation"`
		Target   target   `json:"target"`
	}
	out := make([]statement, 0, len(a.Android))
	for _, app := range a.Android {
		fps := make([]string, len(app.Fingerprints))
		for i, fp := range app.Fingerprints {
			fps[i] = strings.ToUpper(fp)
		}
		out = append(out, statement{
			Relation: []string{"delegate_permission/common.get_login_creds"},
			Target:   target{Namespace: "android_app", PackageName: app.Package, Fingerprints: fps},
		})
	}
	return json.Marshal(out)
}

// WellKnown serves the documents above on their paths (the Apple and
// Android ones only when such apps are configured; 404 otherwise), to be
// mounted for each of PathAppleAppSiteAssociation, PathAssetLinks and
// PathWebAuthn. They are public, so they may be cached for an hour.
func (s *Service) WellKnown() (http.Handler, error) {
	related, err := s.wa.RelatedOrigins()
	if err != nil {
		return nil, fmt.Errorf("passkey: related origins: %w", err)
	}
	webauthnDoc, err := related.Bytes()
	if err != nil {
		return nil, err
	}
	aasa, err := s.opts.Apps.appleAppSiteAssociation()
	if err != nil {
		return nil, err
	}
	links, err := s.opts.Apps.assetLinks()
	if err != nil {
		return nil, err
	}
	docs := map[string][]byte{PathWebAuthn: webauthnDoc, PathAppleAppSiteAssociation: aasa, PathAssetLinks: links}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := docs[r.URL.Path]
		switch {
		case doc == nil:
			http.NotFound(w, r)
			return
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(doc)
	}), nil
}
