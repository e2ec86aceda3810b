package provider

import (
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// RFC 9207: every authorization response, a code or an error, carries the
// issuer's identifier as iss, so that a client talking to several
// authorization servers can tell which one answered (the mix-up attack)
// before it sends a code anywhere. Discovery says so
// (authorization_response_iss_parameter_supported).
//
// op builds every authorization response, successful or not, with its
// Authorizer's Encoder, whichever path it takes: /authorize's own errors
// (the authorizer, authorize.go), the login UI's answer and its failures
// (AnswerAuthRequest, FailAuthRequest: fail.go) and the callback
// (routes.go). Each is given the responder below, or the authorizer, whose
// Encoder adds iss after op's: one place, whatever the response.

// issEncoder is op's encoder with iss added to what it encodes.
type issEncoder struct {
	inner  httphelper.Encoder
	issuer string
}

func (e issEncoder) Encode(src any, dst map[string][]string) error {
	if err := e.inner.Encode(src, dst); err != nil {
		return err
	}
	dst["iss"] = []string{e.issuer}
	return nil
}

// responder is op's Authorizer for the answers that do not come from
// /authorize itself. With crypto set (an answer's code sealer:
// codeseal.go), its Crypto is that.
type responder struct {
	*op.Provider
	enc    httphelper.Encoder
	crypto op.Crypto
}

func (r responder) Encoder() httphelper.Encoder { return r.enc }

func (r responder) Crypto() op.Crypto {
	if r.crypto != nil {
		return r.crypto
	}
	return r.Provider.Crypto()
}

func newResponder(prov *op.Provider, issuer string) responder {
	return responder{Provider: prov, enc: issEncoder{inner: prov.Encoder(), issuer: issuer}}
}
