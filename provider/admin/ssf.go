package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/ssf"
	"tsubasa/storage"
)

// maxAuthorization bounds the Authorization header a stream's receiver
// wants: a bearer token or a basic credential fits many times over.
const maxAuthorization = 4096

func (s *Service) viewStream(w storage.Webhook) adminapi.SSFStreamView {
	st := w.SSF
	delivered := []string{}
	for _, uri := range st.EventsRequested {
		if ssf.Supported(uri) {
			delivered = append(delivered, uri)
		}
	}
	return adminapi.SSFStreamView{
		StreamID: w.ID, Issuer: s.ssfIssuer, Audience: st.Audience, ClientID: st.ClientID,
		Delivery:        adminapi.SSFDeliveryView{Method: ssf.DeliveryPush, EndpointURL: w.URL},
		EventsSupported: ssf.EventsSupported, EventsRequested: nonNil(st.EventsRequested), EventsDelivered: delivered,
		Description: st.Description, AuthorizationSet: st.AuthorizationSealed != "", CreatedAt: w.CreatedAt,
	}
}

// createStream makes a partner client's stream: a webhook subscription
// whose deliveries go out as SETs (provider/ssf), for the audit types its
// requested events map from.
func (s *Service) createStream(ctx context.Context, in adminapi.SSFStreamInput) (adminapi.SSFStreamView, error) {
	if len(s.ssfKey) == 0 || s.whCheck == nil {
		return adminapi.SSFStreamView{}, errors.New("admin: Shared Signals streams are not configured on this server")
	}
	if err := s.checkStream(ctx, &in); err != nil {
		return adminapi.SSFStreamView{}, err
	}
	w := storage.Webhook{ID: "ssf_" + strings.ToLower(rand.Text()), URL: in.Delivery.EndpointURL,
		Events: ssf.AuditTypes(in.EventsRequested), CreatedAt: s.now().UTC(),
		SSF: &storage.SSFStream{ClientID: in.ClientID, Audience: in.Audience, EventsRequested: in.EventsRequested,
			Description: in.Description}}
	sealed, err := ssf.Seal(s.ssfKey, w.ID, in.Delivery.AuthorizationHeader)
	if err != nil {
		return adminapi.SSFStreamView{}, err
	}
	w.SSF.AuthorizationSealed = sealed
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return adminapi.SSFStreamView{}, err
	}
	return s.viewStream(w), nil
}

// checkStream validates in, naming the field at fault, and fills its
// defaults: the audience is the client's id, each event once.
func (s *Service) checkStream(ctx context.Context, in *adminapi.SSFStreamInput) error {
	in.ClientID = strings.TrimSpace(in.ClientID)
	if in.ClientID == "" {
		return adminapi.Invalid("client_id", "client_id is required: the partner client the stream is for")
	}
	if _, err := s.clients.ClientByID(ctx, in.ClientID); errors.Is(err, storage.ErrNotFound) {
		return adminapi.Invalid("client_id", "no client %q", in.ClientID)
	} else if err != nil {
		return err
	}
	if in.Audience = strings.TrimSpace(in.Audience); in.Audience == "" {
		in.Audience = in.ClientID
	}
	d := &in.Delivery
	if d.Method != ssf.DeliveryPush {
		return adminapi.Invalid("delivery.method", "delivery method %q is not supported; only push, %s", d.Method, ssf.DeliveryPush)
	}
	if d.EndpointURL = strings.TrimSpace(d.EndpointURL); d.EndpointURL == "" {
		return adminapi.Invalid("delivery.endpoint_url", "delivery.endpoint_url is required")
	}
	if err := s.whCheck(d.EndpointURL); err != nil {
		return adminapi.Invalid("delivery.endpoint_url", "delivery.endpoint_url %q: %v", d.EndpointURL, err)
	}
	if len(d.AuthorizationHeader) > maxAuthorization || strings.ContainsFunc(d.AuthorizationHeader, func(r rune) bool {
		return r < ' ' || r == 0x7f
	}) {
		return adminapi.Invalid("delivery.authorization_header",
			"delivery.authorization_header must be one line of at most %d characters", maxAuthorization)
	}
	if len(in.EventsRequested) == 0 {
		return adminapi.Invalid("events_requested", "name at least one event type: %s", strings.Join(ssf.EventsSupported, ", "))
	}
	var events []string
	for _, e := range in.EventsRequested {
		if !ssf.Supported(e) {
			return adminapi.Invalid("events_requested", "%q is not an event type this transmitter sends; these are: %s",
				e, strings.Join(ssf.EventsSupported, ", "))
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	in.EventsRequested = events
	return nil
}

func (s *Service) listStreams(ctx context.Context, _ adminapi.Empty) ([]adminapi.SSFStreamView, error) {
	ws, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := []adminapi.SSFStreamView{}
	for _, w := range ws {
		if w.SSF != nil {
			out = append(out, s.viewStream(w))
		}
	}
	return out, nil
}

// stream reads stream id: NotFound for a webhook that is no stream.
func (s *Service) stream(ctx context.Context, id string) (storage.Webhook, error) {
	w, err := s.store.WebhookByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && w.SSF == nil {
		return storage.Webhook{}, adminapi.NotFound("no Shared Signals stream %q", id)
	}
	return w, err
}

func (s *Service) showStream(ctx context.Context, in adminapi.IDInput) (adminapi.SSFStreamView, error) {
	w, err := s.stream(ctx, in.ID)
	if err != nil {
		return adminapi.SSFStreamView{}, err
	}
	return s.viewStream(w), nil
}

// deleteStream deletes a stream: nothing more is queued for it, and what
// is queued is dropped at delivery (its subscription is gone).
func (s *Service) deleteStream(ctx context.Context, in adminapi.IDInput) (adminapi.SSFStreamView, error) {
	w, err := s.stream(ctx, in.ID)
	if err != nil {
		return adminapi.SSFStreamView{}, err
	}
	if err := s.store.DeleteWebhook(ctx, in.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return adminapi.SSFStreamView{}, err
	}
	return s.viewStream(w), nil
}
