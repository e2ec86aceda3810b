package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify/notifytest"
)

const membersPath = adminapi.Prefix + "/members/"

// getMember reads the test member through the API and returns it with its
// ETag.
func getMember(t *testing.T, s *Server, token, number string) (adminapi.MemberView, string) {
	t.Helper()
	a := AdminDo(t, s, http.MethodGet, membersPath+number, token, "")
	if a.Status != http.StatusOK {
		t.Fatalf("GET member %s: %d %s", number, a.Status, a.Body)
	}
	var m adminapi.MemberView
	a.JSON(t, &m)
	if a.Header.Get("ETag") != `"`+m.Version+`"` || m.Version == "" {
		t.Errorf("ETag %q, version %q", a.Header.Get("ETag"), m.Version)
	}
	return m, a.Header.Get("ETag")
}

// TestAdminAPIMemberSupport: a call centre's system, with its own token,
// finds the member by number and by id, sees the session the member's
// login made, ends it (the member's refresh token stops working), sets a
// temporary password (the member must change it), unlocks a member locked
// by wrong passwords, and every call is audited under its agent.
func TestAdminAPIMemberSupport(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Extra: privateHooks}
	_, o.SMTPPort = smtp.Addr()
	s := StartWithMember(t, o)
	tok := OpsToken(t, s)
	hooks := NewWebhookReceiver(t)
	hooks.Subscribe(t, s, "login.succeeded", "alert.queued", "login.failed", "profile.changed", "member.status_changed")
	agent := []string{"X-Tsubasa-Agent", "agent-042"}
	m, _ := getMember(t, s, tok, MemberNumber)
	if byID, _ := getMember(t, s, tok, m.ID); byID.Number != MemberNumber {
		t.Errorf("by id %s: member %s", m.ID, byID.Number)
	}

	rp := NewRP(t, s, "web", "web-secret-0123456789", oidc.ScopeOpenID, "offline_access")
	login := LoginRP(t, rp, NewBrowser(t, s))
	var ss adminapi.SessionsOutput
	AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/sessions", tok, "").JSON(t, &ss)
	if len(ss.Sessions) != 1 || ss.Sessions[0].DeviceID == "" {
		t.Fatalf("sessions after a login: %+v", ss)
	}
	var devs adminapi.DevicesOutput
	AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/devices", tok, "").JSON(t, &devs)
	if len(devs.Devices) != 1 || devs.Devices[0].ID != ss.Sessions[0].DeviceID {
		t.Errorf("devices: %+v", devs)
	}
	a := AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+"/sessions:end", tok,
		fmt.Sprintf(`{"session":%q}`, ss.Sessions[0].ID), agent...)
	var ended adminapi.Ended
	if a.JSON(t, &ended); a.Status != http.StatusOK || ended.EndedSessions != 1 || ended.RevokedTokens < 1 {
		t.Fatalf("ending the session: %d %s", a.Status, a.Body)
	}
	if _, err := Refresh(t, rp, login.RefreshToken); err == nil {
		t.Error("the member's refresh token works after its session was ended")
	}

	// The member proves to be on the line first (admin.support).
	sess := StartSupport(t, s, tok, MemberNumber, agent[1])
	_, code := MailCode(t, smtp, 1)
	if v := VerifySupport(t, s, tok, MemberNumber, sess.ID, code, agent[1]); v.Status != http.StatusOK {
		t.Fatalf("verifying the support session: %d %s", v.Status, v.Body)
	}
	a = AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+"/password", tok,
		`{"password":"Temporary-Kite-81","temporary":true,"support_session":"`+sess.ID+`"}`, agent...)
	if a.Status != http.StatusOK {
		t.Fatalf("temporary password: %d %s", a.Status, a.Body)
	}
	if m, _ = getMember(t, s, tok, MemberNumber); !m.MustChangePassword {
		t.Error("a temporary password need not be changed")
	}
	b := NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(NewFlow()))
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {MemberNumber}, "password": {"Temporary-Kite-81"}})
	// The login stops at a step of its own: a one-time password to the
	// member's email, then the new password; never the app's callback.
	if res.Status != http.StatusOK || res.URL.Path != "/login/otp" && res.URL.Path != "/login/password" {
		t.Errorf("the login with a temporary password ended at %d %s (Location %q), want the second factor or the new password",
			res.Status, res.URL, res.Location)
	}

	for range 6 {
		b := NewBrowser(t, s)
		p := b.Get(t, rp.AuthURL(NewFlow()))
		b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
			"member_number": {MemberNumber}, "password": {"Wrong-Guess-000"}})
	}
	if m, _ = getMember(t, s, tok, MemberNumber); !m.Locked {
		t.Fatalf("six wrong passwords did not lock the member: %+v", m)
	}
	a = AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+"/unlock", tok, "", agent...)
	if a.JSON(t, &m); a.Status != http.StatusOK || m.Locked {
		t.Errorf("unlock: %d %s", a.Status, a.Body)
	}

	supportWebhooks(t, s, tok, hooks, agent...)

	var evs adminapi.EventsOutput
	AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/events?limit=100", tok, "").JSON(t, &evs)
	agents := 0
	for _, e := range evs.Events {
		if e.Type == "admin.call" && e.ClientID == AdminClient && e.Detail["agent"] == "agent-042" {
			agents++
		}
	}
	if agents != 8 { // the session's end, the support session's start and verification, the password, the unlock, the profile change, the disable, the enable
		t.Errorf("%d admin.call events of agent-042 in the member's history, want 5", agents)
	}
}

// supportWebhooks changes the member's profile, disables and enables
// the member through the API, then checks what a back office subscribed
// to the support test's events got about the member, each verified and
// in order: the login from a new device (login.succeeded, then its
// alert.queued of kind login_alert), the lockout (a login.failed
// refused as throttled), the profile change (naming the operator as its
// author, never the new value) and the status going to disabled and back.
func supportWebhooks(t *testing.T, s *Server, tok string, hooks *WebhookReceiver, agent ...string) {
	t.Helper()
	m, etag := getMember(t, s, tok, MemberNumber)
	if a := AdminDo(t, s, http.MethodPatch, membersPath+MemberNumber, tok, `{"given_name_latin":"Hanae"}`,
		append([]string{"If-Match", etag}, agent...)...); a.Status != http.StatusOK {
		t.Fatalf("profile change: %d %s", a.Status, a.Body)
	}
	for _, op := range []string{"/disable", "/enable"} {
		if a := AdminDo(t, s, http.MethodPost, membersPath+MemberNumber+op, tok, "", agent...); a.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", op, a.Status, a.Body)
		}
	}
	ds := hooks.WaitTypes(t, m.ID, webhookWait, "login.succeeded", "alert.queued", "login.failed",
		"profile.changed", "member.status_changed", "member.status_changed")
	checkOrdered(t, ds)
	var alert, locked bool
	var statuses []string
	for _, d := range ds {
		data := d.Body.Data
		switch d.Body.Type {
		case "alert.queued":
			alert = alert || data.Detail["kind"] == "login_alert" && data.DeviceID != ""
		case "login.failed":
			locked = locked || data.Reason == "throttled" && data.Detail["scope"] != ""
		case "profile.changed":
			if data.Detail["by"] != "operator" || strings.Contains(string(d.Raw), "Hanae") {
				t.Errorf("profile.changed delivery: %s", d.Raw)
			}
		case "member.status_changed":
			statuses = append(statuses, data.Detail["status"])
		}
	}
	if !alert {
		t.Error("no alert.queued delivery of a login alert for the new device")
	}
	if !locked {
		t.Error("no login.failed delivery refused as throttled once the member was locked")
	}
	if !slices.Equal(statuses, []string{"disabled", "active"}) {
		t.Errorf("member.status_changed statuses %q, want disabled then active", statuses)
	}
}

// TestAdminAPIEventPages: a member's events read a page at a time with
// the cursors the API gives come out newest first, each exactly once,
// and as a whole equal to one big page.
func TestAdminAPIEventPages(t *testing.T) {
	s := StartWithMember(t, Options{})
	tok := OpsToken(t, s)
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	for range 3 {
		LoginRP(t, rp, NewBrowser(t, s))
	}
	var all adminapi.EventsOutput
	AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/events?limit=500", tok, "").JSON(t, &all)
	if len(all.Events) < 7 || all.Next != "" {
		t.Fatalf("one page of all events: %d events, next %q", len(all.Events), all.Next)
	}
	var paged []string
	cursor := ""
	for pages := 0; ; pages++ {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var page adminapi.EventsOutput
		AdminDo(t, s, http.MethodGet, membersPath+MemberNumber+"/events"+q, tok, "").JSON(t, &page)
		for _, e := range page.Events {
			paged = append(paged, e.ID)
		}
		if cursor = page.Next; cursor == "" || pages > 20 {
			break
		}
	}
	var want []string
	for _, e := range all.Events {
		want = append(want, e.ID)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged events %v\nwant %v", paged, want)
	}
}

// TestAdminAPIImportStreams: an import answers 202 with the job's place at
// once, reads CSV or JSON lines, lists every refused row with its line,
// and its job reads the same afterwards.
func TestAdminAPIImportStreams(t *testing.T) {
	s := Start(t, Options{})
	tok := OpsToken(t, s)
	for _, tc := range []struct {
		media, body string
	}{
		{adminapi.MediaCSV, "number,family_name_latin,pin\n2000001,Ito,135790\n2000002,Ito,12\n2000003,Abe,246802\n"},
		{adminapi.MediaJSONLines, `{"number":"3000001","family_name_latin":"Ito","pin":"135790"}` + "\n" +
			`{"number":"3000002","family_name_latin":"Ito","pin":"12"}` + "\n" + `{"number":3000003,"family_name_latin":"Abe","pin":246802}`},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+adminapi.Prefix+"/members:import?contacts_verified=true",
			strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", tc.media)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		a := answerOf(t, resp)
		var job adminapi.JobView
		a.JSON(t, &job)
		if a.Status != http.StatusAccepted || a.Header.Get("Location") != adminapi.Prefix+"/jobs/"+job.ID {
			t.Fatalf("%s import: %d, Location %q", tc.media, a.Status, a.Header.Get("Location"))
		}
		r := job.Progress
		if job.State != adminapi.JobDone || r.Rows != 3 || r.Created != 2 || r.Refused != 1 || len(r.Errors) != 1 ||
			r.Errors[0].Line != 2+btoi(tc.media == adminapi.MediaCSV) || !strings.Contains(r.Errors[0].Reason, "pin") {
			t.Errorf("%s import: %+v", tc.media, job)
		}
		var again adminapi.JobView
		AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/jobs/"+job.ID, tok, "").JSON(t, &again)
		if again.State != job.State || again.Progress.Created != 2 || again.ClientID != AdminClient {
			t.Errorf("the job read back: %+v", again)
		}
	}
	a := AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members:import", tok, "", "Content-Type", "text/csv")
	if p := a.Problem(t); a.Status != http.StatusBadRequest || p.Field != "file" {
		t.Errorf("an empty import: %d %+v", a.Status, p)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
