package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"tsubasa/provider"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify"
	"tsubasa/provider/ssf"
	"tsubasa/storage"
)

// OpenID Shared Signals streams are wired here. A stream is a webhook
// subscription with stream settings (storage.Webhook.SSF), so storage
// queues its deliveries with the webhooks'; the webhook deliverer hands a
// stream's to ssfSender, which has the provider sign the SET.

// ssfKeyPurpose derives the key that seals streams' Authorization headers.
const ssfKeyPurpose = "ssf-authorization"

// setSigner is the provider as provider/ssf's Signer: a stream whose
// client is gone can name nobody, which no retry changes.
type setSigner struct{ p *provider.Provider }

func (s setSigner) SETSubject(ctx context.Context, clientID, memberID string) (string, error) {
	sub, err := s.p.SETSubject(ctx, clientID, memberID)
	if errors.Is(err, provider.ErrSETClientGone) {
		return "", fmt.Errorf("%w: %w", ssf.ErrUndeliverable, err)
	}
	return sub, err
}

func (s setSigner) SignSET(claims []byte) (string, error) { return s.p.SignSET(claims) }

// ssfSender delivers one stream's message; p is nil in a CLI process,
// which signs nothing: the server's worker delivers the message later.
func (d *Deps) ssfSender(p *provider.Provider) func(ctx context.Context, sub storage.Webhook, b storage.WebhookBody) error {
	if p == nil {
		return func(context.Context, storage.Webhook, storage.WebhookBody) error {
			return errors.New("ssf: no provider in this process")
		}
	}
	t := ssf.NewTransmitter(d.Config.Issuer, setSigner{p}, outboundClient(d.Config), deriveKey(d.HMACKey, ssfKeyPurpose), nil)
	return func(ctx context.Context, sub storage.Webhook, b storage.WebhookBody) error {
		err := t.Deliver(ctx, sub, b)
		if errors.Is(err, ssf.ErrUndeliverable) {
			return notify.Permanent(err)
		}
		return err
	}
}

// ssfConfiguration is /.well-known/ssf-configuration: the admin API's
// streams are the configuration endpoint.
func ssfConfiguration(issuer string, p *provider.Provider) http.Handler {
	return ssf.Configuration(issuer, p.JWKSURI(), issuer+adminapi.Prefix+"/ssf/streams")
}
