package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// Dump hands fn every key and value of every bucket (key then value, as
// one slice), and what the store keeps in memory (throttles, pending
// authorization requests, attempts in flight), for the conformance
// suite's erasure scan (storagetest.Dumper). Tests only.
func Dump(s *Store, ctx context.Context, fn func(where string, data []byte)) error {
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				fn(fmt.Sprintf("bucket %s key %q", name, k), slices.Concat(k, v))
				return nil
			})
		})
	})
	if err != nil {
		return err
	}
	s.limits.mu.Lock()
	for k, v := range s.limits.throttles {
		b, _ := json.Marshal(v)
		fn("throttle "+k, slices.Concat([]byte(k), b))
	}
	s.limits.mu.Unlock()
	s.limits.flightMu.Lock()
	for k := range s.limits.flights {
		fn("login flight", []byte(k.member+"/"+k.device))
	}
	s.limits.flightMu.Unlock()
	s.pending.mu.Lock()
	var reqs []*pendingRequest
	for _, e := range s.pending.m {
		reqs = append(reqs, e)
	}
	s.pending.mu.Unlock()
	for _, e := range reqs {
		e.mu.Lock()
		b, _ := json.Marshal(e.r)
		e.mu.Unlock()
		fn("pending auth request", b)
	}
	return nil
}
