package adminapi

import "time"

// OpenID Shared Signals streams (provider/ssf): a partner client's stream
// of Security Event Tokens, pushed (RFC 8935). The shapes follow SSF 1.0
// §8.1.1's stream configuration; the Authorization header the receiver
// wants is accepted on create and never shown again.

// SSFStreamInput creates a stream for partner client ClientID.
type SSFStreamInput struct {
	ClientID string `json:"client_id"`
	// Audience is the SETs' aud; the client's id when empty.
	Audience        string      `json:"aud,omitempty"`
	Delivery        SSFDelivery `json:"delivery"`
	EventsRequested []string    `json:"events_requested"`
	Description     string      `json:"description,omitempty"`
}

// SSFDelivery is how SETs reach the receiver: method urn:ietf:rfc:8935
// (push) to EndpointURL (https; special-use addresses as for webhooks),
// with AuthorizationHeader (e.g. "Bearer …") when the receiver wants one.
type SSFDelivery struct {
	Method              string `json:"method"`
	EndpointURL         string `json:"endpoint_url"`
	AuthorizationHeader string `json:"authorization_header,omitempty"`
}

// SSFStreamView is a stream's configuration: never its Authorization
// header (AuthorizationSet says whether there is one).
type SSFStreamView struct {
	StreamID         string          `json:"stream_id"`
	Issuer           string          `json:"iss"`
	Audience         string          `json:"aud"`
	ClientID         string          `json:"client_id"`
	Delivery         SSFDeliveryView `json:"delivery"`
	EventsSupported  []string        `json:"events_supported"`
	EventsRequested  []string        `json:"events_requested"`
	EventsDelivered  []string        `json:"events_delivered"`
	Description      string          `json:"description,omitempty"`
	AuthorizationSet bool            `json:"authorization_header_set"`
	CreatedAt        time.Time       `json:"created_at,omitzero"`
}

// SSFDeliveryView is a stream's delivery, without its Authorization header.
type SSFDeliveryView struct {
	Method      string `json:"method"`
	EndpointURL string `json:"endpoint_url"`
}
