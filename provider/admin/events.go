package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// listEvents returns a page of a member's events, newest first, secrets
// in their detail redacted. The cursor of the next page names the last
// event of this one (its time and id: events appended meanwhile never
// shift a page) and is signed for this member, so that a cursor altered
// or carried to another member is refused rather than read.
func (s *Service) listEvents(ctx context.Context, in adminapi.EventsInput) (adminapi.EventsOutput, error) {
	switch {
	case in.Limit < 0 || in.Limit > adminapi.MaxEventsLimit:
		return adminapi.EventsOutput{}, adminapi.Invalid("limit", "limit must be from 1 to %d", adminapi.MaxEventsLimit)
	case in.Limit == 0:
		in.Limit = adminapi.DefaultEventsLimit
	}
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		var erased bool
		if m, erased = s.erasedMember(ctx, in.Number); !erased {
			return adminapi.EventsOutput{}, err
		}
	}
	var before time.Time
	var beforeID string
	if in.Cursor != "" {
		if before, beforeID, err = s.openCursor(m.ID, in.Cursor); err != nil {
			return adminapi.EventsOutput{}, err
		}
	}
	// One more than the page: whether there is a next page at all.
	evs, err := s.store.ListEventsBefore(ctx, m.ID, before, beforeID, in.Limit+1)
	if err != nil {
		return adminapi.EventsOutput{}, err
	}
	out := adminapi.EventsOutput{Number: m.Number, Events: []adminapi.EventView{}}
	if len(evs) > in.Limit {
		evs = evs[:in.Limit]
		last := evs[len(evs)-1]
		out.Next = s.sealCursor(m.ID, last.Time, last.ID)
	}
	for _, e := range evs {
		out.Events = append(out.Events, adminapi.EventView{
			ID: e.ID, Time: e.Time, Type: e.Type, Success: e.Success, Reason: e.Reason, Method: e.Method,
			ClientID: e.ClientID, DeviceID: e.DeviceID, IP: e.IP, UserAgent: e.UserAgent,
			Detail: audit.Redact(e.Detail),
		})
	}
	return out, nil
}

// cursorMAC is the length of a cursor's tag.
const cursorMAC = 16

// sealCursor encodes a position in memberID's events: the time (Unix
// nanoseconds) and the id, and an HMAC of both with the member's id.
func (s *Service) sealCursor(memberID string, t time.Time, id string) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
	b = append(b, id...)
	return base64.RawURLEncoding.EncodeToString(append(b, s.cursorTag(memberID, b)...))
}

// openCursor checks a cursor for memberID and returns its position.
func (s *Service) openCursor(memberID, cursor string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 8+cursorMAC {
		return time.Time{}, "", invalidCursor()
	}
	body, tag := b[:len(b)-cursorMAC], b[len(b)-cursorMAC:]
	if !hmac.Equal(tag, s.cursorTag(memberID, body)) {
		return time.Time{}, "", invalidCursor()
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(body))).UTC(), string(body[8:]), nil
}

func (s *Service) cursorTag(memberID string, body []byte) []byte {
	mac := hmac.New(sha256.New, s.cursorKey)
	mac.Write([]byte("events\x00" + memberID + "\x00"))
	mac.Write(body)
	return mac.Sum(nil)[:cursorMAC]
}

func invalidCursor() *adminapi.Error {
	e := adminapi.Invalid("cursor", "the cursor is not one this server gave for this member's events; start from the first page")
	e.Problem = adminapi.ProblemInvalidCursor
	return e
}

// erasedMember reports whether raw is the id of an erased member, whose
// events (the tombstone alone) an operator may still read by that id, so
// that the erasure can be proved; its number is gone with the rest.
func (s *Service) erasedMember(ctx context.Context, raw string) (storage.Member, bool) {
	if !memberID(raw) {
		return storage.Member{}, false
	}
	evs, err := s.store.ListEvents(ctx, raw, 1)
	if err != nil || len(evs) == 0 || evs[0].Type != audit.EventMemberErased {
		return storage.Member{}, false
	}
	return storage.Member{ID: raw}, true
}
