package admin

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/ssf"
	"tsubasa/storage"
)

const credentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"

// streamService is the operations with streams configured: https URLs
// only, and a partner client.
func streamService(t *testing.T) (*Service, storage.Store) {
	t.Helper()
	svc, st := newService(t, asIs)
	svc.ssfIssuer, svc.ssfKey = "https://id.example", bytes.Repeat([]byte{3}, 32)
	svc.whCheck = func(u string) error {
		if !strings.HasPrefix(u, "https://") {
			return errors.New("must be https")
		}
		return nil
	}
	if _, err := svc.clients.Create(t.Context(), storage.Client{ID: "partner", RedirectURIs: []string{"https://partner.example/cb"},
		ThirdParty: true}); err != nil {
		t.Fatal(err)
	}
	return svc, st
}

func goodStream() adminapi.SSFStreamInput {
	return adminapi.SSFStreamInput{ClientID: "partner", EventsRequested: []string{credentialChange, credentialChange},
		Delivery: adminapi.SSFDelivery{Method: ssf.DeliveryPush, EndpointURL: "https://partner.example/ssf",
			AuthorizationHeader: "Bearer partner-secret-token"}}
}

// TestCreateStreamRefusesBadInputNamingTheField: every bad input is
// refused with the field at fault, and nothing is stored.
func TestCreateStreamRefusesBadInputNamingTheField(t *testing.T) {
	svc, st := streamService(t)
	cases := map[string]func(*adminapi.SSFStreamInput){
		"client_id":                     func(in *adminapi.SSFStreamInput) { in.ClientID = "" },
		"client_id ":                    func(in *adminapi.SSFStreamInput) { in.ClientID = "nobody" },
		"delivery.method":               func(in *adminapi.SSFStreamInput) { in.Delivery.Method = "urn:ietf:rfc:8936" },
		"delivery.endpoint_url":         func(in *adminapi.SSFStreamInput) { in.Delivery.EndpointURL = "" },
		"delivery.endpoint_url ":        func(in *adminapi.SSFStreamInput) { in.Delivery.EndpointURL = "http://partner.example/ssf" },
		"delivery.authorization_header": func(in *adminapi.SSFStreamInput) { in.Delivery.AuthorizationHeader = "Bearer a\r\nX-Evil: 1" },
		"delivery.authorization_header ": func(in *adminapi.SSFStreamInput) {
			in.Delivery.AuthorizationHeader = strings.Repeat("a", maxAuthorization+1)
		},
		"events_requested":  func(in *adminapi.SSFStreamInput) { in.EventsRequested = nil },
		"events_requested ": func(in *adminapi.SSFStreamInput) { in.EventsRequested = []string{"https://example.com/other"} },
	}
	for name, bad := range cases {
		in := goodStream()
		bad(&in)
		_, err := svc.createStream(t.Context(), in)
		var ae *adminapi.Error
		if !errors.As(err, &ae) || ae.Field != strings.TrimSpace(name) || ae.Status != 400 {
			t.Errorf("%s: %v, want 400 naming %s", name, err, strings.TrimSpace(name))
		}
	}
	if ws, _ := st.ListWebhooks(t.Context()); len(ws) != 0 {
		t.Errorf("refused streams were stored: %+v", ws)
	}
}

// TestCreateStreamStoresItSealedAndApart: a stream is stored with the
// audit types its events map from, its header sealed, its audience the
// client's id by default; no answer shows the header; the webhook
// operations neither list nor remove it, and the stream ones do.
func TestCreateStreamStoresItSealedAndApart(t *testing.T) {
	svc, st := streamService(t)
	ctx := t.Context()
	v, err := svc.createStream(ctx, goodStream())
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.WebhookByID(ctx, v.StreamID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Events, ssf.AuditTypes([]string{credentialChange})) || w.SSF.Audience != "partner" ||
		!slices.Equal(w.SSF.EventsRequested, []string{credentialChange}) || strings.Contains(w.SSF.AuthorizationSealed, "partner-secret") {
		t.Errorf("stored stream: %+v %+v", w, w.SSF)
	}
	if h, err := ssf.Open(svc.ssfKey, w.ID, w.SSF.AuthorizationSealed); err != nil || h != "Bearer partner-secret-token" {
		t.Errorf("the sealed header opens to %q, %v", h, err)
	}
	if !v.AuthorizationSet || v.Issuer != "https://id.example" || v.Delivery.EndpointURL != "https://partner.example/ssf" {
		t.Errorf("view: %+v", v)
	}
	if hooks, _ := svc.listWebhooks(ctx, adminapi.Empty{}); len(hooks) != 0 {
		t.Errorf("the webhooks list shows the stream: %+v", hooks)
	}
	var ae *adminapi.Error
	if _, err := svc.removeWebhook(ctx, adminapi.IDInput{ID: v.StreamID}); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("removing the stream as a webhook: %v, want 404", err)
	}
	if list, _ := svc.listStreams(ctx, adminapi.Empty{}); len(list) != 1 || list[0].StreamID != v.StreamID {
		t.Errorf("streams: %+v", list)
	}
	if _, err := svc.deleteStream(ctx, adminapi.IDInput{ID: v.StreamID}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.showStream(ctx, adminapi.IDInput{ID: v.StreamID}); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("a deleted stream: %v, want 404", err)
	}
}
