package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/webhook"
	"tsubasa/storage"
)

func viewWebhook(w storage.Webhook) adminapi.WebhookView {
	return adminapi.WebhookView{ID: w.ID, URL: w.URL, Events: nonNil(w.Events), CreatedAt: w.CreatedAt}
}

// addWebhook subscribes a receiver. Its secret is derived from the
// server's key and the new id, shown in this answer only, and never
// stored.
func (s *Service) addWebhook(ctx context.Context, in adminapi.WebhookInput) (adminapi.WebhookOutput, error) {
	if len(s.whKey) == 0 || s.whCheck == nil {
		return adminapi.WebhookOutput{}, errors.New("admin: webhooks are not configured on this server")
	}
	in.URL = strings.TrimSpace(in.URL)
	if in.URL == "" {
		return adminapi.WebhookOutput{}, adminapi.Invalid("url", "url is required")
	}
	if err := s.whCheck(in.URL); err != nil {
		return adminapi.WebhookOutput{}, adminapi.Invalid("url", "url %q: %v", in.URL, err)
	}
	if len(in.Events) == 0 {
		return adminapi.WebhookOutput{}, adminapi.Invalid("events", "name at least one event type: %s", strings.Join(webhook.EventTypes, ", "))
	}
	var events []string
	for _, e := range in.Events {
		if !webhook.KnownEventType(e) {
			return adminapi.WebhookOutput{}, adminapi.Invalid("events", "%q is not an event type a webhook delivers; these are: %s",
				e, strings.Join(webhook.EventTypes, ", "))
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	w := storage.Webhook{ID: "wh_" + strings.ToLower(rand.Text()), URL: in.URL, Events: events, CreatedAt: s.now().UTC()}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return adminapi.WebhookOutput{}, err
	}
	return adminapi.WebhookOutput{Webhook: viewWebhook(w), Secret: webhook.SecretFor(s.whKey, w.ID)}, nil
}

func (s *Service) listWebhooks(ctx context.Context, _ adminapi.Empty) ([]adminapi.WebhookView, error) {
	ws, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := []adminapi.WebhookView{}
	for _, w := range ws {
		if w.SSF == nil { // a Shared Signals stream is listed with the streams
			out = append(out, viewWebhook(w))
		}
	}
	return out, nil
}

// removeWebhook deletes a subscription: nothing more is queued for it.
func (s *Service) removeWebhook(ctx context.Context, in adminapi.IDInput) (adminapi.WebhookView, error) {
	w, err := s.store.WebhookByID(ctx, in.ID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && w.SSF != nil {
		return adminapi.WebhookView{}, adminapi.NotFound("no webhook %q", in.ID)
	}
	if err != nil {
		return adminapi.WebhookView{}, err
	}
	if err := s.store.DeleteWebhook(ctx, in.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return adminapi.WebhookView{}, err
	}
	return viewWebhook(w), nil
}
