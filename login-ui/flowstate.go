package loginui

import (
	"context"
	"net/http"
	"strings"

	"github.com/gorilla/sessions"

	"tsubasa/storage"
)

// The login in progress (flowState) lives in the browser's server-side
// session from the primary authentication until establish: who proved
// what, for which request, the member's security stamp when it began and
// the new password's hash a set-password step holds.

// Flow-state keys in the browser session.
const (
	keyFlowReq     = "flow_req"
	keyFlowMember  = "flow_member"
	keyFlowAMR     = "flow_amr"
	keyFlowACR     = "flow_acr"
	keyFlowStepUp  = "flow_stepup"
	keyFlowSetPass = "flow_setpass"
	keyFlowStamp   = "flow_stamp"   // the member's security stamp when the login began
	keyFlowNewHash = "flow_newpass" // the new password's hash, held until the login completes
)

// beginFlow records a primary authentication (or a step-up start) in the session.
func (u *UI) beginFlow(sess *sessions.Session, req storage.AuthRequest, st flowState) {
	sess.Values[keyFlowReq] = req.ID
	sess.Values[keyFlowMember] = st.MemberID
	sess.Values[keyFlowAMR] = strings.Join(st.AMR, " ")
	sess.Values[keyFlowACR] = st.ACR
	sess.Values[keyFlowStepUp] = boolValue(st.StepUp)
	sess.Values[keyFlowSetPass] = boolValue(st.SetPass)
	sess.Values[keyFlowStamp] = st.Stamp
	sess.Values[keyFlowNewHash] = st.NewHash
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// flow returns the login in progress for req. Without one (a step page
// opened directly, or for another request) it returns the catalog key of
// the error to show: error.request_foreign, or error.credentials_changed
// when the member's credentials changed since the login began (a reset or
// "this wasn't me" elsewhere): what it proved then proves nothing now.
func (u *UI) flow(ctx context.Context, sess *sessions.Session, req storage.AuthRequest) (flowState, string) {
	if value(sess, keyFlowReq) != req.ID || value(sess, keyFlowMember) == "" {
		return flowState{}, "error.request_foreign"
	}
	st := flowState{
		ReqID:    req.ID,
		MemberID: value(sess, keyFlowMember),
		AMR:      strings.Fields(value(sess, keyFlowAMR)),
		ACR:      value(sess, keyFlowACR),
		StepUp:   value(sess, keyFlowStepUp) == "1",
		SetPass:  value(sess, keyFlowSetPass) == "1",
		Stamp:    value(sess, keyFlowStamp),
		NewHash:  value(sess, keyFlowNewHash),
	}
	m, err := u.store.MemberByID(ctx, st.MemberID)
	if err != nil || m.Status != storage.MemberActive {
		return flowState{}, "error.request_foreign"
	}
	if m.SecurityStamp != st.Stamp {
		return flowState{}, "error.credentials_changed"
	}
	st.Member = m
	return st, ""
}

// flowOrError is flow for a step page: it renders the error itself (and
// drops a login the credentials changed under) and reports whether to go on.
func (u *UI) flowOrError(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) (flowState, bool) {
	st, errKey := u.flow(r.Context(), sess, req)
	if errKey == "" {
		return st, true
	}
	status := http.StatusForbidden
	if errKey == "error.credentials_changed" {
		status = http.StatusConflict
		clearFlow(sess)
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.serverError(w, r, err)
			return st, false
		}
	}
	u.renderError(w, r, status, errKey)
	return st, false
}

func clearFlow(sess *sessions.Session) {
	for _, k := range []string{keyFlowReq, keyFlowMember, keyFlowAMR, keyFlowACR, keyFlowStepUp, keyFlowSetPass, keyFlowStamp, keyFlowNewHash} {
		delete(sess.Values, k)
	}
}

// updateFlow saves changed flow state (a step completed) and advances.
func (u *UI) updateFlow(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest, st flowState) {
	u.beginFlow(sess, req, st)
	u.advance(w, r, sess, req)
}
