package provider

import (
	"context"
	"errors"
	"time"
)

// The replay check of DPoP proofs (RFC 9449 §4.3 step 11, §11.1): a proof
// is good once. Its jti is recorded, keyed with the thumbprint of the key
// that signed it (an HMAC of both, so that two clients' jtis never meet),
// until the proof is too old to pass checkProof anyway (iat plus
// Options.DPoPProofMaxAge), by the replay check of replay.go: in the
// store (atomic, on every replica), or on bbolt in this process's memory
// behind a fence at its start.
//
// The jti is recorded last, after the proof, the token and the binding
// have checked out, so that only a request that would otherwise succeed
// is remembered.

// errProofReplayed: the proof was used before (or, after a restart, may
// have been: errBeforeStart).
var errProofReplayed = errors.New("provider: DPoP proof replayed")

// useProof records the proof's jti; errProofReplayed when it was used.
func (p *Provider) useProof(ctx context.Context, proof dpopProof) error {
	err := p.replay.use(ctx, p.tokenHash("dpop-jti", proof.jkt+"\x00"+proof.jti), proof.iat,
		proof.iat.Add(p.opts.DPoPProofMaxAge+time.Second))
	switch {
	case errors.Is(err, errReplayed):
		p.log.WarnContext(ctx, "DPoP proof replayed", "jkt", proof.jkt)
		return errProofReplayed
	case errors.Is(err, errBeforeStart):
		p.log.InfoContext(ctx, "DPoP proof made before the server started", "jkt", proof.jkt)
		return errProofReplayed
	}
	return err
}
