package loginui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"tsubasa/provider/clientaddr"
	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Reserved session value keys that map to first-class fields of the stored
// session (the SSO part); every other value is flow state kept in Data.
const (
	keyMember   = "_member"
	keyAuthTime = "_auth_time" // unix seconds
	keyACR      = "_acr"
	keyAMR      = "_amr" // space separated
	keyDevice   = "_device"
	// keyCarried holds, as JSON, the earlier ids of this browser's session
	// and the clients given codes under each (storage.Session.Carried).
	keyCarried = "_carried"
)

// maxCarried bounds the earlier session ids a session carries: the
// newest are kept, an older sid's relying parties have long moved on.
const maxCarried = 16

// sessionStore is a gorilla/sessions Store kept server-side in storage: the
// cookie carries only an authenticated random id, so a session can be
// revoked (sign out everywhere, "this wasn't me", end_session) by deleting
// its record.
type sessionStore struct {
	store   storage.Sessions
	codec   securecookie.Codec
	options sessions.Options
	ttl     time.Duration
	idle    time.Duration
	now     func() time.Time
	// logouts queues the back-channel logouts of a session that a login
	// of someone else in the same browser ends; nil queues none.
	logouts *notify.Logouts
}

var _ sessions.Store = (*sessionStore)(nil)

func newSessionStore(st storage.Sessions, key []byte, secure bool, ttl, idle time.Duration, now func() time.Time) *sessionStore {
	codec := securecookie.New(key, nil)
	codec.MaxAge(0) // lifetime is enforced server-side
	return &sessionStore{
		store: st,
		codec: codec,
		options: sessions.Options{
			Path:     "/",
			HttpOnly: true,
			Secure:   secure,
			SameSite: http.SameSiteLaxMode,
		},
		ttl:  ttl,
		idle: idle,
		now:  now,
	}
}

func (s *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or starts an empty one. An
// unknown, expired or idle session is silently replaced by a new one. An
// anonymous session (see Save) comes back with its id, empty and IsNew,
// unless something has been stored under its id since.
func (s *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	return s.load(r, name, false)
}

// keyCachedCopy marks a session newCached loaded: Save refuses it.
const keyCachedCopy = "_cached_copy"

var errCachedSession = errors.New("loginui: a session read from the cache is not saved")

// newCached is New through the store's session cache
// (storage.CachedSessions: with several replicas on PostgreSQL, a round
// trip less), for the SSO answer alone: what it loads may lack an update
// another replica made to the record within the revocation delay, and
// is only ever more cautious for that (an older login, a weaker method).
// Its flow state is not to be relied on, and Save refuses it, so that
// an older copy never overwrites the record.
func (s *sessionStore) newCached(r *http.Request, name string) (*sessions.Session, error) {
	sess, err := s.load(r, name, true)
	if err == nil && !sess.IsNew {
		sess.Values[keyCachedCopy] = "1"
	}
	return sess, err
}

// load is New, reading the stored session through the store's session
// cache when cached is set.
func (s *sessionStore) load(r *http.Request, name string, cached bool) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := s.codec.Decode(name, c.Value, &id); err != nil {
		return sess, nil
	}
	id, anonymous := strings.CutPrefix(id, anonymousPrefix)
	read := s.store.SessionByID
	if cached {
		read = func(ctx context.Context, id string) (storage.Session, error) {
			return storage.SessionByIDCached(ctx, s.store, id)
		}
	}
	rec, err := read(r.Context(), id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			if anonymous {
				// Nothing stored behind it yet (see Save): keep the id,
				// which a login page may have bound its request to.
				sess.ID = id
			}
			return sess, nil
		}
		return sess, err
	}
	now := s.now()
	idle := s.idle > 0 && now.Sub(rec.LastSeenAt) > s.idle
	if idle && cached && !rec.Expired(now) {
		// A cached copy may predate a save on another replica, which
		// the stored record has (its last use): ask the record.
		return s.load(r, name, false)
	}
	if rec.Expired(now) || idle {
		return sess, nil
	}
	// The provider's answer within this request checks the clients it
	// lists (recordSessionClient): it need not read it again.
	storage.HandOffSession(r.Context(), rec)
	sess.ID = rec.ID
	sess.IsNew = false
	for k, v := range rec.Data {
		sess.Values[k] = v
	}
	if rec.MemberID != "" {
		sess.Values[keyMember] = rec.MemberID
		sess.Values[keyAuthTime] = strconv.FormatInt(rec.AuthTime.Unix(), 10)
		sess.Values[keyACR] = rec.ACR
		sess.Values[keyAMR] = strings.Join(rec.AMR, " ")
		sess.Values[keyDevice] = rec.DeviceID
	}
	return sess, nil
}

// Save writes the session record and the cookie; MaxAge < 0 deletes both.
func (s *sessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if _, cached := sess.Values[keyCachedCopy]; cached {
		return errCachedSession
	}
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.store.DeleteSession(ctx, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	now := s.now().UTC()
	rec := s.record(r, sess, now)
	cookie := sess.ID
	if sess.ID == "" || sess.IsNew {
		if sess.ID == "" {
			sess.ID = newSessionID()
			cookie = sess.ID
		}
		if len(sess.Values) == 0 {
			// Nothing to keep yet: a login page only needs an id to bind
			// its request to. It lives in the cookie alone, marked
			// anonymous, until the session holds something; so a page
			// view writes nothing.
			cookie = anonymousPrefix + sess.ID
			sess.IsNew = true // nothing behind the id
		} else {
			rec.ID = sess.ID
			rec.CreatedAt = now
			rec.ExpiresAt = now.Add(s.ttl)
			if err := s.store.CreateSession(ctx, rec); err != nil {
				return err
			}
			sess.IsNew = false
		}
	} else {
		err := s.store.UpdateSession(ctx, sess.ID, func(old storage.Session) (storage.Session, error) {
			rec.ID, rec.CreatedAt, rec.ExpiresAt = old.ID, old.CreatedAt, old.ExpiresAt
			// Written by the provider and by regenerate, never from the
			// values a request loaded.
			rec.Clients, rec.Carried = old.Clients, old.Carried
			return rec, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			// Revoked while the request ran: do not resurrect it.
			return errSessionGone
		}
		if err != nil {
			return err
		}
	}
	enc, err := s.codec.Encode(sess.Name(), cookie)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), enc, sess.Options))
	return nil
}

// cookieID is the session id the browser's cookie carries, authenticated,
// whether or not its session is still live; "" for none or an anonymous one.
func (s *sessionStore) cookieID(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	var id string
	if err := s.codec.Decode(name, c.Value, &id); err != nil || strings.HasPrefix(id, anonymousPrefix) {
		return ""
	}
	return id
}

// anonymousPrefix marks, inside the authenticated cookie, the id of a
// session with nothing stored behind it yet.
const anonymousPrefix = "anon:"

var errSessionGone = errors.New("loginui: session was revoked")

func (s *sessionStore) record(r *http.Request, sess *sessions.Session, now time.Time) storage.Session {
	rec := storage.Session{Data: map[string]string{}, LastSeenAt: now, IP: clientIP(r), UserAgent: r.UserAgent()}
	for k, v := range sess.Values {
		ks, _ := k.(string)
		vs, _ := v.(string)
		switch ks {
		case keyMember:
			rec.MemberID = vs
		case keyAuthTime:
			if n, err := strconv.ParseInt(vs, 10, 64); err == nil {
				rec.AuthTime = time.Unix(n, 0).UTC()
			}
		case keyACR:
			rec.ACR = vs
		case keyAMR:
			rec.AMR = strings.Fields(vs)
		case keyDevice:
			rec.DeviceID = vs
		case keyCarried:
			_ = json.Unmarshal([]byte(vs), &rec.Carried) // written by carry alone
		case "":
		default:
			rec.Data[ks] = vs
		}
	}
	return rec
}

func newSessionID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// regenerate gives the session a new id (deleting the old record) so that
// an id planted before login is worthless after it (session fixation).
// memberID is who holds the session from now on ("" for nobody). When it
// is the member who held the old one, the new session carries the old
// id and the clients given codes under it, so that their back-channel
// logout still reaches them by the sid they know when the session ends;
// when it is someone else, or nobody, the old session ends here and its
// relying parties are told now.
func (s *sessionStore) regenerate(ctx context.Context, sess *sessions.Session, memberID string) error {
	delete(sess.Values, keyCarried)
	if sess.ID != "" && !sess.IsNew { // an anonymous session has no record
		if old, err := s.store.SessionByID(ctx, sess.ID); err == nil && old.MemberID != "" {
			if old.MemberID == memberID {
				carry(sess, old)
			} else {
				s.logouts.Ending(ctx, old)
			}
		}
		if err := s.store.DeleteSession(ctx, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	sess.ID = ""
	return nil
}

// value returns a string session value.
func value(sess *sessions.Session, key string) string {
	v, _ := sess.Values[key].(string)
	return v
}

// clientIP is the request's client address, as package clientaddr
// derives it (from trusted proxies only): every limit, event and page of
// the UI that names an address reads it here.
func clientIP(r *http.Request) string { return clientaddr.From(r) }

// carry records on sess, for the record Save writes next, old's id and
// clients and those old carried itself, newest first, at most maxCarried.
func carry(sess *sessions.Session, old storage.Session) {
	all := old.Carried
	if len(old.Clients) > 0 {
		all = append([]storage.CarriedSession{{ID: old.ID, Clients: old.Clients}}, all...)
	}
	if len(all) == 0 {
		return
	}
	if len(all) > maxCarried {
		all = all[:maxCarried]
	}
	if b, err := json.Marshal(all); err == nil {
		sess.Values[keyCarried] = string(b)
	}
}
