package loginui

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/member"
	"tsubasa/provider/otp"
	"tsubasa/provider/passkey"
	"tsubasa/storage"
)

// The member's passkey pages. Seeing the list takes a login; adding a
// passkey takes a fresh one-time password by an allowed channel (SMS, the
// programme's rule), checked by the gate when the registration page opens
// and again when the ceremony begins, and spent by a successful
// registration, so every new passkey costs a new code. Renaming takes a
// login; deleting takes a step-up, because it removes a way to log in, and
// is a credential change (credential.go): every session of the member ends
// and every token is revoked, and this browser stays logged in or not as
// configured.

type passkeysPage struct {
	page
	credentialNotes
	Zone     string
	Notice   string
	Passkeys []passkeyRow
	// RegistrationNote says which code adding a passkey takes.
	RegistrationNote string
	MaxName          int
	// For PublicKeyCredential.signalAllAcceptedCredentials, so the
	// member's passkey provider can forget deleted passkeys.
	RPID, UserID, CredentialIDs string
}

type passkeyRow struct {
	ID, Name, Created, LastUsed string
	Synced                      bool
}

type passkeyNewPage struct {
	page
	MaxName int
}

type passkeyDeletePage struct {
	page
	credentialNotes
	ID, Name string
}

// passkeyNotices are the ?done= values the list page announces.
var passkeyNotices = []string{"added", "renamed", "deleted"}

// when formats t for lang in the feature's zone.
func (f *passkeyFeature) when(lang string, t time.Time) string {
	return f.u.cat.formatTime(lang, t, f.Location, false)
}

func encodeID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

func decodeID(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return b, err == nil && len(b) > 0
}

func (f *passkeyFeature) showPasskeys(w http.ResponseWriter, r *http.Request) {
	_, m, ok := f.u.requireMember(w, r)
	if !ok {
		return
	}
	if d := r.URL.Query().Get("done"); slices.Contains(passkeyNotices, d) {
		f.renderList(w, r, m, http.StatusOK, "passkey.done."+d, signedOutKey(r), "")
		return
	}
	f.renderList(w, r, m, http.StatusOK, "", "", "")
}

// renderList shows the list with a notice (and what a removal signed out),
// or an error.
func (f *passkeyFeature) renderList(w http.ResponseWriter, r *http.Request, m storage.Member, status int, notice, signedOut, errKey string) {
	ps, err := f.Service.List(r.Context(), m.ID)
	if err != nil {
		f.u.serverError(w, r, err)
		return
	}
	p := passkeysPage{page: f.u.newPage(r, f.u.memberLang(r, m), "passkey.account.title"), Zone: f.ZoneLabel, Notice: notice, RPID: f.Service.RPID(), MaxName: passkey.MaxNameLength}
	p.SignedOut = signedOut
	p.Error = errKey
	p.RegistrationNote = "passkey.new.note.any"
	if !slices.Contains(f.RegistrationChannels, otp.ChannelEmail) {
		p.RegistrationNote = "passkey.new.note.sms"
	}
	if errKey == "passkey.error.name" {
		p.ErrorArg = passkey.MaxNameLength
	}
	if len(m.WebAuthnHandle) > 0 {
		p.UserID = encodeID(m.WebAuthnHandle)
	}
	ids := make([]string, 0, len(ps))
	for _, pk := range ps {
		id := encodeID(pk.ID)
		ids = append(ids, id)
		p.Passkeys = append(p.Passkeys, passkeyRow{
			ID: id, Name: pk.Name, Synced: passkey.IsSynced(pk),
			Created: f.when(p.Lang, pk.CreatedAt), LastUsed: f.when(p.Lang, pk.LastUsedAt),
		})
	}
	p.CredentialIDs = strings.Join(ids, " ")
	f.u.render(w, r, status, "account_passkeys", p)
}

// showNew is the registration page, behind the one-time-password gate.
func (f *passkeyFeature) showNew(w http.ResponseWriter, r *http.Request) {
	_, m, ok := f.u.requireMember(w, r)
	if !ok || !f.u.requireOTP(w, r, m, otp.PurposePasskey, f.RegistrationChannels) {
		return
	}
	p := passkeyNewPage{page: f.u.newPage(r, f.u.memberLang(r, m), "passkey.new.title"), MaxName: passkey.MaxNameLength}
	f.u.render(w, r, http.StatusOK, "account_passkeys_new", p)
}

// accountCall checks a JSON call of the registration page: a logged-in
// member who passed the gate. It answers the JSON error itself otherwise,
// with where the page should go (the registration page, which logs in or
// asks for a code and comes back).
func (f *passkeyFeature) accountCall(w http.ResponseWriter, r *http.Request) (storage.Member, bool) {
	sess := f.u.session(r)
	lang := f.u.langs.negotiate(r, nil)
	m, ok := f.u.ssoMember(r.Context(), sess)
	switch {
	case !ok:
		writeJSON(w, http.StatusUnauthorized, jsonError{Error: "session_expired", Message: f.u.cat.T(lang, "error.session_expired"), Location: "/account/passkeys/new"})
		return m, false
	case !jsonCall(r):
		writeJSON(w, http.StatusUnsupportedMediaType, jsonError{Error: "bad_request", Message: f.u.cat.T(lang, "passkey.register.error")})
		return m, false
	case !f.u.gatePassed(sess, m, otp.PurposePasskey, f.RegistrationChannels):
		writeJSON(w, http.StatusUnauthorized, jsonError{Error: "otp_required", Location: "/account/passkeys/new"})
		return m, false
	}
	return m, true
}

func (f *passkeyFeature) beginRegistration(w http.ResponseWriter, r *http.Request) {
	m, ok := f.accountCall(w, r)
	if !ok {
		return
	}
	lang := f.u.memberLang(r, m)
	var in struct {
		Name string `json:"name"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<10))
	if err != nil || json.Unmarshal(body, &in) != nil {
		writeJSON(w, http.StatusBadRequest, jsonError{Error: "bad_request", Message: f.u.cat.T(lang, "passkey.register.error")})
		return
	}
	name := ""
	if strings.TrimSpace(in.Name) != "" {
		// Checked before the ceremony, so a bad name never costs one.
		if name, err = passkey.CleanName(in.Name); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, jsonError{Error: "invalid_name", Message: f.u.cat.T(lang, "passkey.error.name", passkey.MaxNameLength)})
			return
		}
	}
	options, state, err := f.Service.BeginRegistration(r.Context(), m)
	if errors.Is(err, passkey.ErrMemberInactive) {
		writeJSON(w, http.StatusForbidden, jsonError{Error: "inactive", Message: f.u.cat.T(lang, "passkey.register.error")})
		return
	}
	if err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	sess := f.u.session(r)
	f.putState(sess, keyPasskeyReg, state)
	sess.Values[keyPasskeyRegName] = name
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	writeOptions(w, options)
}

func (f *passkeyFeature) finishRegistration(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, ok := f.accountCall(w, r)
	if !ok {
		return
	}
	lang := f.u.memberLang(r, m)
	fail := func(status int, code, key string) {
		writeJSON(w, status, jsonError{Error: code, Message: f.u.cat.T(lang, key)})
	}
	sess := f.u.session(r)
	state := f.takeState(sess, keyPasskeyReg)
	name := value(sess, keyPasskeyRegName)
	delete(sess.Values, keyPasskeyRegName)
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	if state == "" {
		fail(http.StatusBadRequest, "no_ceremony", "passkey.register.error")
		return
	}
	body, ok := readCredential(r)
	if !ok {
		fail(http.StatusBadRequest, "bad_request", "passkey.register.error")
		return
	}
	p, err := f.Service.FinishRegistration(ctx, m, state, body, name, r.UserAgent())
	switch {
	case errors.Is(err, passkey.ErrAlreadyRegistered):
		fail(http.StatusConflict, "already_registered", "passkey.error.already")
		return
	case err != nil:
		f.u.log.InfoContext(ctx, "passkey registration refused", "reason", passkey.Reason(err), "member_id", m.ID, "err", err)
		fail(http.StatusBadRequest, "passkey_failed", "passkey.register.error")
		return
	}
	f.u.log.InfoContext(ctx, "passkey registered", "member_id", m.ID, "synced", passkey.IsSynced(p))
	// The code that allowed this passkey is spent: the next one needs a new code.
	delete(sess.Values, gateKey(otp.PurposePasskey))
	if err := f.u.sessions.Save(r, w, sess); err != nil {
		f.jsonServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/account/passkeys?done=added"})
}

// pathID is the passkey id in the path; a malformed one is answered as an
// unknown passkey.
func (f *passkeyFeature) pathID(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	id, ok := decodeID(r.PathValue("id"))
	if !ok {
		f.u.renderError(w, r, http.StatusNotFound, "passkey.error.not_found")
	}
	return id, ok
}

func (f *passkeyFeature) rename(w http.ResponseWriter, r *http.Request) {
	_, m, ok := f.u.requireMember(w, r)
	if !ok {
		return
	}
	id, ok := f.pathID(w, r)
	if !ok {
		return
	}
	err := f.Service.Rename(r.Context(), m.ID, id, r.PostFormValue("name"))
	switch {
	case errors.Is(err, passkey.ErrName):
		f.renderList(w, r, m, http.StatusUnprocessableEntity, "", "", "passkey.error.name")
	case errors.Is(err, passkey.ErrNotFound):
		f.u.renderError(w, r, http.StatusNotFound, "passkey.error.not_found")
	case err != nil:
		f.u.serverError(w, r, err)
	default:
		http.Redirect(w, r, "/account/passkeys?done=renamed", http.StatusSeeOther)
	}
}

// showDelete asks for confirmation; the step-up comes first, so the member
// confirms with a fresh login.
func (f *passkeyFeature) showDelete(w http.ResponseWriter, r *http.Request) {
	_, m, ok := f.u.requireStepUp(w, r)
	if !ok {
		return
	}
	id, ok := decodeID(r.PathValue("id"))
	ps, err := f.Service.List(r.Context(), m.ID)
	if err != nil {
		f.u.serverError(w, r, err)
		return
	}
	i := slices.IndexFunc(ps, func(p storage.Passkey) bool { return ok && string(p.ID) == string(id) })
	if i < 0 {
		f.u.renderError(w, r, http.StatusNotFound, "passkey.error.not_found")
		return
	}
	p := passkeyDeletePage{page: f.u.newPage(r, f.u.memberLang(r, m), "passkey.delete.title"), ID: encodeID(ps[i].ID), Name: ps[i].Name,
		credentialNotes: credentialNotes{Effect: f.u.credentialEffect()}}
	f.u.render(w, r, http.StatusOK, "account_passkeys_delete", p)
}

func (f *passkeyFeature) postDelete(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := f.u.requireStepUp(w, r)
	if !ok {
		return
	}
	id, ok := f.pathID(w, r)
	if !ok {
		return
	}
	err := f.Service.Delete(r.Context(), m.ID, id)
	switch {
	case errors.Is(err, passkey.ErrNotFound):
		f.u.renderError(w, r, http.StatusNotFound, "passkey.error.not_found")
	case err != nil:
		f.u.serverError(w, r, err)
	default:
		f.u.log.InfoContext(r.Context(), "passkey deleted", "member_id", m.ID)
		f.removed(w, r, sess, m)
	}
}

// removed ends what the removed passkey may have opened: a passkey is
// removed because it may be in someone else's hands.
func (f *passkeyFeature) removed(w http.ResponseWriter, r *http.Request, sess *sessions.Session, m storage.Member) {
	ended, err := f.u.opts.Members.CredentialChanged(r.Context(), m.ID, changeContext(r, sess, member.ChangePasskey))
	if err != nil {
		f.u.serverError(w, r, err)
		return
	}
	next, err := f.u.afterCredentialChange(w, r, sess, ended, "/account/passkeys?done=deleted")
	if err != nil {
		f.u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
