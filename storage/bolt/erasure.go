package bolt

import (
	"context"
	"slices"
	"strings"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// EraseMember deletes the member and every record about them in one
// commit (storage.Erasure). Kinds with a member index (tokens, sessions,
// passkeys, events) or keyed by member (devices, consents) are read by
// that key; short-lived kinds without one (OTPs, auth requests and codes,
// device grants, support sessions) and the outbox are scanned whole:
// erasure is rare, and a scan finds what an index would miss. The
// throttles and attempts in memory (limits.go) are dropped after the
// commit, as is the member cache entry.
func (s *Store) EraseMember(ctx context.Context, memberID string, check func(storage.Member) error, tombstone storage.Event) (storage.Erased, error) {
	if memberID == "" {
		return storage.Erased{}, errNoMember
	}
	var (
		out    storage.Erased
		number string
		revKey string
	)
	now := s.now().UTC()
	defer s.members.changed(memberID) // after the commit
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = storage.Erased{}
		m, err := members.get(tx, []byte(memberID))
		if err != nil {
			return abort(err)
		}
		if check != nil {
			if err := check(m); err != nil {
				return abort(err)
			}
		}
		if err := events.check(tx, true, &tombstone); err != nil {
			return abort(err)
		}
		number = m.Number
		f := storage.TokenFilter{MemberID: memberID}
		ix, prefix, err := filterIndex(f)
		if err != nil {
			return abort(err)
		}
		if revKey, out.Tokens, err = s.revokeTokens(tx, f, ix, prefix, now); err != nil {
			return noAbort(err)
		}
		if out.Sessions, err = eraseAll(tx, sessions, func(tx *bbolt.Tx) ([]storage.Session, error) {
			return sessionsOf(tx, storage.SessionFilter{MemberID: memberID})
		}); err != nil {
			return noAbort(err)
		}
		n, err := eraseRecords(tx, &m)
		if err != nil {
			return noAbort(err)
		}
		out.Records = out.Tokens + out.Sessions + n + 1
		if err := members.del(tx, &m); err != nil {
			return noAbort(err)
		}
		// Through putEvent, as every event: a subscription that asks for
		// the tombstone (a Shared Signals stream's account-purged) gets it.
		return noAbort(putEvent(tx, &tombstone))
	})
	if err != nil {
		return storage.Erased{}, err
	}
	s.revoked.remember(revKey, now)
	s.pending.forget(memberID)
	s.limits.forget(memberID, number)
	return out, nil
}

// eraseRecords deletes the member's records of every kind but tokens,
// sessions and the member itself, returning how many it deleted.
func eraseRecords(tx *bbolt.Tx, m *storage.Member) (int, error) {
	id := m.ID
	mine := func(memberID string) bool { return memberID == id }
	requests := map[string]bool{} // the member's auth requests, whose codes go too
	steps := []func() (int, error){
		func() (int, error) {
			return eraseAll(tx, passkeys, func(tx *bbolt.Tx) ([]storage.Passkey, error) {
				return passkeys.byIndex(tx, &passkeys.indexes[0], iprefix(id))
			})
		},
		func() (int, error) {
			return eraseAll(tx, events, func(tx *bbolt.Tx) ([]storage.Event, error) {
				return events.byIndex(tx, &events.indexes[0], iprefix(id))
			})
		},
		func() (int, error) {
			return eraseAll(tx, devices, func(tx *bbolt.Tx) ([]storage.Device, error) { return devices.byPrefix(tx, iprefix(id)) })
		},
		func() (int, error) {
			return eraseAll(tx, consents, func(tx *bbolt.Tx) ([]storage.Consent, error) { return consents.byPrefix(tx, iprefix(id)) })
		},
		func() (int, error) {
			return eraseWhere(tx, otps, func(o *storage.OTP) bool { return mine(o.MemberID) })
		},
		func() (int, error) {
			return eraseWhere(tx, authRequests, func(r *storage.AuthRequest) bool {
				if mine(r.MemberID) {
					requests[r.ID] = true
				}
				return mine(r.MemberID)
			})
		},
		func() (int, error) {
			return eraseWhere(tx, authCodes, func(c *storage.AuthCode) bool { return requests[c.AuthRequestID] })
		},
		func() (int, error) {
			return eraseWhere(tx, deviceGrants, func(g *storage.DeviceGrant) bool { return mine(g.MemberID) })
		},
		func() (int, error) {
			return eraseWhere(tx, supportSessions, func(s *storage.SupportSession) bool { return mine(s.MemberID) })
		},
		func() (int, error) {
			return eraseWhere(tx, outbox, func(o *storage.OutboxMessage) bool { return addressedTo(o, m) })
		},
	}
	total := 0
	for _, step := range steps {
		n, err := step()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// addressedTo reports whether o is a mail or SMS to m (by address, or
// naming the member in its text). Back-channel logouts are kept: they
// carry the member id alone, and relying parties need them.
func addressedTo(o *storage.OutboxMessage, m *storage.Member) bool {
	if o.Channel == storage.ChannelBackchannelLogout {
		return false
	}
	if (m.Email != "" && strings.EqualFold(o.To, m.Email)) || (m.Phone != "" && o.To == m.Phone) {
		return true
	}
	for _, text := range []string{o.Subject, o.Text, o.HTML} {
		if strings.Contains(text, m.ID) || (m.Number != "" && strings.Contains(text, m.Number)) {
			return true
		}
	}
	return false
}

// eraseAll deletes the records list returns.
func eraseAll[T any](tx *bbolt.Tx, t *table[T], list func(*bbolt.Tx) ([]T, error)) (int, error) {
	vs, err := list(tx)
	if err != nil {
		return 0, err
	}
	for i := range vs {
		if err := t.del(tx, &vs[i]); err != nil {
			return 0, err
		}
	}
	return len(vs), nil
}

// eraseWhere scans t whole and deletes the records match selects.
func eraseWhere[T any](tx *bbolt.Tx, t *table[T], match func(*T) bool) (int, error) {
	return eraseAll(tx, t, func(tx *bbolt.Tx) ([]T, error) {
		all, err := t.byPrefix(tx, nil)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(all, func(v T) bool { return !match(&v) }), nil
	})
}

// forget drops the member's pending authorization requests.
func (p *pendingRequests) forget(memberID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, e := range p.m {
		e.mu.Lock()
		mine := e.r.MemberID == memberID
		e.mu.Unlock()
		if mine {
			delete(p.m, id)
		}
	}
}

// forget drops the throttles whose key has the member's id or number as
// a segment ("login/number/1234567", "otp/member/<id>"), and the member's
// attempts in flight. Single-use claims stay: dropping one would let
// what it guards be used again.
func (l *limits) forget(memberID, number string) {
	segment := func(key string) bool {
		for part := range strings.SplitSeq(key, "/") {
			if part == memberID || (number != "" && part == number) {
				return true
			}
		}
		return false
	}
	l.mu.Lock()
	for k := range l.throttles {
		if segment(k) {
			delete(l.throttles, k)
		}
	}
	l.mu.Unlock()
	l.flightMu.Lock()
	for k := range l.flights {
		if k.member == memberID {
			delete(l.flights, k)
		}
	}
	l.flightMu.Unlock()
}
