package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// The SET event types the tests ask for (CAEP 1.0, RISC 1.0).
const (
	caepCredentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	caepSessionRevoked   = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	riscAccountDisabled  = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	riscAccountEnabled   = "https://schemas.openid.net/secevent/risc/event-type/account-enabled"
	riscAccountPurged    = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
)

const ssfStreams = adminapi.Prefix + "/ssf/streams"

// createStream creates a push stream for client to r through the admin API.
func createStream(t *testing.T, s *Server, client, aud string, r *SETReceiver, events ...string) adminapi.SSFStreamView {
	t.Helper()
	in := adminapi.SSFStreamInput{ClientID: client, Audience: aud, EventsRequested: events,
		Delivery: adminapi.SSFDelivery{Method: "urn:ietf:rfc:8935", EndpointURL: r.URL, AuthorizationHeader: r.Auth}}
	body, _ := json.Marshal(in)
	a := AdminDo(t, s, http.MethodPost, ssfStreams, OpsToken(t, s), string(body))
	var out adminapi.SSFStreamView
	if a.JSON(t, &out); a.Status != http.StatusCreated || out.StreamID == "" {
		t.Fatalf("creating the stream: %d %s", a.Status, a.Body)
	}
	if r.Auth != "" && strings.Contains(string(a.Body), r.Auth) {
		t.Errorf("the stream's answer shows the receiver's Authorization header: %s", a.Body)
	}
	return out
}

// TestSSFDiscovery: /.well-known/ssf-configuration names the issuer, the
// JWKS, push delivery only and the admin API's streams as the
// configuration endpoint.
func TestSSFDiscovery(t *testing.T) {
	s := Start(t, Options{})
	var meta struct {
		SpecVersion     string   `json:"spec_version"`
		Issuer          string   `json:"issuer"`
		JWKSURI         string   `json:"jwks_uri"`
		DeliveryMethods []string `json:"delivery_methods_supported"`
		ConfigEndpoint  string   `json:"configuration_endpoint"`
		DefaultSubjects string   `json:"default_subjects"`
	}
	if err := getJSON(s.Issuer+"/.well-known/ssf-configuration", &meta); err != nil {
		t.Fatal(err)
	}
	var oidc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(s.Issuer+"/.well-known/openid-configuration", &oidc); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != s.Issuer || meta.JWKSURI != oidc.JWKSURI || !slices.Equal(meta.DeliveryMethods, []string{"urn:ietf:rfc:8935"}) ||
		meta.ConfigEndpoint != s.Issuer+ssfStreams || meta.SpecVersion != "1_0" || meta.DefaultSubjects != "ALL" {
		t.Errorf("ssf-configuration: %+v", meta)
	}
}

// TestSSFStreamPushesSignedSETsInOrder: a partner (a third-party client)
// has a stream pushed to its receiver, which answers the first try 500.
// The member links the partner, changes the password on the account
// page, and the back office disables and enables the member. The
// receiver gets, after the retry of the first SET (same jti), a
// credential change, the sessions' revocation, the account disabled and
// enabled, and once the member is erased the account purged, in the
// order they happened, each a SET signed by a key of the
// provider's JWKS, typ secevent+jwt, with iss, aud, jti and an iss_sub
// subject naming the member as the partner knows them (pairwise), and
// neither the member's id, number, name, address nor a password.
func TestSSFStreamPushesSignedSETsInOrder(t *testing.T) {
	e := startConsent(t)
	s := e.s
	r := NewSETReceiver(t, s, "Bearer partner-a-ssf-0123456789")
	r.Answer(http.StatusInternalServerError)
	st := createStream(t, s, "partner-a", "https://partner-a.example", r,
		caepCredentialChange, caepSessionRevoked, riscAccountDisabled, riscAccountEnabled, riscAccountPurged)

	b := e.browser(t)
	f := NewFlow()
	_, idWeb := MustExchange(t, e.web, f, Login(t, b, e.web.AuthURL(f), MemberNumber, MemberPass))
	f = NewFlow()
	p := consentPage(t, b.Get(t, e.a.AuthURL(f)), "first login to partner-a")
	_, idA := MustExchange(t, e.a, f, decide(t, b, p, "approve"))
	if idA.Subject == idWeb.Subject {
		t.Fatal("partner-a sees the member's id: no pairwise subject to check")
	}

	const newPass = "Aozora-Tsubasa-2027"
	acct := NewBrowser(t, s)
	page := acct.Get(t, s.Issuer+"/account")
	if res := acct.Post(t, page.URL, "/login", url.Values{"authRequestID": {page.AuthRequestID(t)}, "member_number": {MemberNumber},
		"password": {MemberPass}}); res.URL.Path != "/account" {
		t.Fatalf("login: %d at %s", res.Status, res.URL)
	}
	page = acct.Get(t, s.Issuer+"/account/password")
	if ok := acct.Post(t, page.URL, "/account/password", url.Values{"password": {MemberPass}, "new_password": {newPass},
		"confirm_password": {newPass}}); ok.URL.Path != "/account" {
		t.Fatalf("password change: %d at %s", ok.Status, ok.URL)
	}
	tok := OpsToken(t, s)
	for _, op := range []string{"/disable", "/enable"} {
		if a := AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+op, tok, ""); a.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", op, a.Status, a.Body)
		}
	}

	r.WaitEvents(t, webhookWait, caepCredentialChange, caepSessionRevoked, riscAccountDisabled, riscAccountEnabled)
	// Then the member is erased: the partner hears the account is purged.
	_, etag := getMember(t, s, tok, MemberNumber)
	if a := AdminDo(t, s, http.MethodDelete, membersPath+MemberNumber, tok, "", "If-Match", etag); a.Status != http.StatusOK {
		t.Fatalf("erasing the member: %d %s", a.Status, a.Body)
	}
	sets := r.WaitEvents(t, webhookWait, caepCredentialChange, caepSessionRevoked, riscAccountDisabled, riscAccountEnabled,
		riscAccountPurged)
	checkSETs(t, s, st, idA.Subject, sets)
	all := r.Received()
	if all[0].Status != http.StatusInternalServerError || all[0].Err != nil || all[0].Claims.JTI != sets[0].Claims.JTI {
		t.Errorf("the first try (answered %d, jti %q) is not the first SET accepted (%q) after its retry",
			all[0].Status, all[0].Claims.JTI, sets[0].Claims.JTI)
	}
	for _, set := range all {
		if set.Err != nil {
			t.Errorf("a SET failed the receiver's checks: %v", set.Err)
		}
		for _, secret := range []string{MemberPass, newPass, MemberNumber, idWeb.Subject, "hanako@example.com", "空野", "花子",
			"partner-a-ssf"} {
			if strings.Contains(set.Payload, secret) || strings.Contains(set.Raw, secret) {
				t.Errorf("a SET carries %q: %s", secret, set.Payload)
			}
		}
	}
}

// checkSETs checks each accepted SET's claims: the stream's issuer and
// audience, the member as the partner knows them, one event, and the
// events in the order they happened (jti, the audit event's id, rising).
func checkSETs(t *testing.T, s *Server, st adminapi.SSFStreamView, sub string, sets []SET) {
	t.Helper()
	for i, set := range sets {
		c := set.Claims
		if c.Issuer != s.Issuer || c.Audience != st.Audience || c.JTI == "" || c.IssuedAt == 0 || set.EventType() == "" {
			t.Errorf("SET %d claims: %s", i, set.Payload)
		}
		if c.SubID.Format != "iss_sub" || c.SubID.Issuer != s.Issuer || c.SubID.Subject != sub {
			t.Errorf("SET %d sub_id %+v, want iss_sub %s %s", i, c.SubID, s.Issuer, sub)
		}
		if i > 0 && c.JTI <= sets[i-1].Claims.JTI {
			t.Errorf("out of order: %s %s after %s %s", set.EventType(), c.JTI, sets[i-1].EventType(), sets[i-1].Claims.JTI)
		}
		if ev := c.Events[caepCredentialChange]; ev != nil &&
			(ev["credential_type"] != "password" || ev["change_type"] != "update" || ev["initiating_entity"] != "user") {
			t.Errorf("credential-change event: %v", ev)
		}
	}
	if st.Issuer != s.Issuer || fmt.Sprint(st.EventsDelivered) != fmt.Sprint(st.EventsRequested) {
		t.Errorf("stream configuration: %+v", st)
	}
}
