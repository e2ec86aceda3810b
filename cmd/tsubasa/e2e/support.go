package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// Member support sessions through the HTTP admin API
// (/admin/v1/members/{number}/support-sessions), for the suites: an agent
// starts one, the member's code arrives by mail or SMS, the agent enters
// it.

// SupportPath is the support sessions of member number.
func SupportPath(number string) string {
	return adminapi.Prefix + "/members/" + number + "/support-sessions"
}

// StartSupport starts a support session with member number as agent and
// fails the test unless it is pending.
func StartSupport(t *testing.T, s *Server, token, number, agent string) adminapi.SupportSessionView {
	t.Helper()
	a := AdminDo(t, s, http.MethodPost, SupportPath(number), token, "", "X-Tsubasa-Agent", agent)
	var v adminapi.SupportSessionView
	if a.JSON(t, &v); a.Status != http.StatusCreated || v.State != adminapi.SupportPending || v.ID == "" {
		t.Fatalf("starting a support session with %s: %d %s", number, a.Status, a.Body)
	}
	return v
}

// VerifySupport enters code for session id of member number as agent.
func VerifySupport(t *testing.T, s *Server, token, number, id, code, agent string) AdminAnswer {
	t.Helper()
	return AdminDo(t, s, http.MethodPost, SupportPath(number)+"/"+id+"/verify", token,
		fmt.Sprintf(`{"code":%q}`, code), "X-Tsubasa-Agent", agent)
}
