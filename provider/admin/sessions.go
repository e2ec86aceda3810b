package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// A member's sessions, devices and linked apps, and ending them: what the
// member's own account pages show and do (login-ui), for an agent.

// Event types of what these operations end (audit's).
const (
	eventSessionsRevoked = "sessions.revoked"
	eventAppUnlinked     = "app.unlinked"
)

func (s *Service) listSessions(ctx context.Context, in adminapi.NumberInput) (adminapi.SessionsOutput, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.SessionsOutput{}, err
	}
	ss, err := s.store.ListSessions(ctx, storage.SessionFilter{MemberID: m.ID})
	if err != nil {
		return adminapi.SessionsOutput{}, err
	}
	now := s.now()
	out := adminapi.SessionsOutput{Number: m.Number, Sessions: []adminapi.SessionView{}}
	for _, x := range ss {
		if x.Expired(now) {
			continue // the janitor's, not a session any more
		}
		out.Sessions = append(out.Sessions, adminapi.SessionView{
			ID: x.ID, DeviceID: x.DeviceID, ACR: x.ACR, AMR: x.AMR, IP: x.IP, UserAgent: x.UserAgent,
			AuthTime: x.AuthTime, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt,
		})
	}
	return out, nil
}

// endSessions ends one session of the member and revokes the tokens that
// descend from it, or, with no session named, signs the member out
// everywhere: a credential change (member.ChangeSignOut), which also voids
// logins in progress.
func (s *Service) endSessions(ctx context.Context, in adminapi.SessionInput) (adminapi.Ended, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.Ended{}, err
	}
	if in.Session == "" {
		ended, err := s.members.CredentialChanged(ctx, m.ID, change(ctx, member.ChangeSignOut))
		if err != nil {
			return adminapi.Ended{}, err
		}
		return adminapi.Ended{EndedSessions: len(ended.Sessions), RevokedTokens: ended.Tokens}, nil
	}
	sess, err := s.store.SessionByID(ctx, in.Session)
	if errors.Is(err, storage.ErrNotFound) || err == nil && sess.MemberID != m.ID {
		// Another member's session is as unknown as a missing one.
		return adminapi.Ended{}, adminapi.NotFound("member %s has no session %q", m.Number, in.Session)
	}
	if err != nil {
		return adminapi.Ended{}, err
	}
	s.logouts.Ending(ctx, sess) // before it ends: a crash loses none
	if err := s.store.DeleteSession(ctx, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return adminapi.Ended{}, err
	}
	revoked, err := s.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: m.ID, SessionID: sess.ID})
	if err != nil {
		return adminapi.Ended{EndedSessions: 1}, fmt.Errorf("session ended, but revoking its tokens failed: %w", err)
	}
	s.event(ctx, storage.Event{Type: eventSessionsRevoked, MemberID: m.ID, DeviceID: sess.DeviceID, Success: true,
		Detail: map[string]string{"scope": "session", "by": member.ByOperator, "sessions": "1", "tokens": itoa(revoked)}})
	return adminapi.Ended{EndedSessions: 1, RevokedTokens: revoked}, nil
}

func (s *Service) listDevices(ctx context.Context, in adminapi.NumberInput) (adminapi.DevicesOutput, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.DevicesOutput{}, err
	}
	ds, err := s.store.ListDevices(ctx, m.ID)
	if err != nil {
		return adminapi.DevicesOutput{}, err
	}
	now := s.now()
	out := adminapi.DevicesOutput{Number: m.Number, Devices: make([]adminapi.DeviceView, len(ds))}
	for i, d := range ds {
		out.Devices[i] = adminapi.DeviceView{ID: d.ID, Type: d.Type, Model: d.Model, OS: d.OS, OSVersion: d.OSVersion,
			Browser: d.Browser, Version: d.BrowserVersion, FirstSeenAt: d.FirstSeenAt, LastSeenAt: d.LastSeenAt,
			LastIP: d.LastIP, Locked: now.Before(d.LockedUntil)}
	}
	return out, nil
}

// removeDevice ends every session of one device, revokes the tokens that
// descend from them and forgets the device, so that its next login counts
// as a new device and sends an alert: the account pages' "sign out this
// device".
func (s *Service) removeDevice(ctx context.Context, in adminapi.DeviceInput) (adminapi.Ended, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.Ended{}, err
	}
	f := storage.SessionFilter{MemberID: m.ID, DeviceID: in.Device}
	sessions, err := s.store.ListSessions(ctx, f)
	if err != nil {
		return adminapi.Ended{}, err
	}
	_, err = s.store.DeviceByID(ctx, m.ID, in.Device)
	switch {
	case in.Device == "" || errors.Is(err, storage.ErrNotFound) && len(sessions) == 0:
		return adminapi.Ended{}, adminapi.NotFound("member %s has no device %q", m.Number, in.Device)
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return adminapi.Ended{}, err
	}
	s.logouts.Ending(ctx, sessions...)
	var out adminapi.Ended
	if out.EndedSessions, err = s.store.DeleteSessions(ctx, f); err != nil {
		return out, err
	}
	for _, x := range sessions {
		n, err := s.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: m.ID, SessionID: x.ID})
		if err != nil {
			return out, err
		}
		out.RevokedTokens += n
	}
	if err := s.store.DeleteDevice(ctx, m.ID, in.Device); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return out, err
	}
	s.event(ctx, storage.Event{Type: eventSessionsRevoked, MemberID: m.ID, DeviceID: in.Device, Success: true,
		Detail: map[string]string{"scope": "device", "by": member.ByOperator,
			"sessions": itoa(out.EndedSessions), "tokens": itoa(out.RevokedTokens)}})
	return out, nil
}

func (s *Service) listApps(ctx context.Context, in adminapi.NumberInput) (adminapi.AppsOutput, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.AppsOutput{}, err
	}
	cs, err := s.store.ListConsents(ctx, m.ID)
	if err != nil {
		return adminapi.AppsOutput{}, err
	}
	out := adminapi.AppsOutput{Number: m.Number, Apps: make([]adminapi.AppView, len(cs))}
	for i, c := range cs {
		out.Apps[i] = adminapi.AppView{ClientID: c.ClientID, Scopes: nonNil(c.Scopes), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	}
	return out, nil
}

// unlinkApp forgets the member's consent to a third-party app and revokes
// every token the app holds for the member: the account pages' unlink.
func (s *Service) unlinkApp(ctx context.Context, in adminapi.AppInput) (adminapi.Ended, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.Ended{}, err
	}
	c, err := s.store.ConsentByID(ctx, m.ID, in.Client)
	if errors.Is(err, storage.ErrNotFound) || in.Client == "" {
		return adminapi.Ended{}, adminapi.NotFound("member %s has no linked app %q", m.Number, in.Client)
	}
	if err != nil {
		return adminapi.Ended{}, err
	}
	// Consent first: from here no new login skips the consent page, and no
	// token minted before this point survives the revocation below.
	if err := s.store.DeleteConsent(ctx, m.ID, in.Client); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return adminapi.Ended{}, err
	}
	n, err := s.store.DeleteTokens(ctx, storage.TokenFilter{MemberID: m.ID, ClientID: in.Client})
	if err != nil {
		return adminapi.Ended{}, err
	}
	s.event(ctx, storage.Event{Type: eventAppUnlinked, MemberID: m.ID, ClientID: in.Client, Success: true,
		Detail: map[string]string{"by": member.ByOperator, "scopes": strings.Join(c.Scopes, " "), "revoked": itoa(n)}})
	return adminapi.Ended{RevokedTokens: n}, nil
}
