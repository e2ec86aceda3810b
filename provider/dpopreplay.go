package provider

import (
	"context"
	"errors"
	"time"

	"tsubasa/storage"
)

// The replay check of DPoP proofs (RFC 9449 §4.3 step 11, §11.1): a proof
// is good once. Its jti is recorded, keyed with the thumbprint of the key
// that signed it (an HMAC of both, so that two clients' jtis never meet),
// until the proof is too old to pass checkProof anyway (iat plus
// Options.DPoPProofMaxAge), in one atomic step of the store
// (storage.JTIs.UseJTI): of two requests carrying one proof, on one
// replica or several, exactly one gets through.
//
// The jti is recorded last, after the proof, the token and the binding
// have checked out, so that only a request that would otherwise succeed
// writes.

// errProofReplayed: the proof was used before.
var errProofReplayed = errors.New("provider: DPoP proof replayed")

// useProof records the proof's jti; errProofReplayed when it was used.
func (p *Provider) useProof(ctx context.Context, proof dpopProof) error {
	err := p.store.UseJTI(ctx, storage.UsedJTI{
		Key:       p.tokenHash("dpop-jti", proof.jkt+"\x00"+proof.jti),
		ExpiresAt: proof.iat.Add(p.opts.DPoPProofMaxAge + time.Second),
	}, p.now())
	if errors.Is(err, storage.ErrConsumed) {
		p.log.WarnContext(ctx, "DPoP proof replayed", "jkt", proof.jkt)
		return errProofReplayed
	}
	return err
}
