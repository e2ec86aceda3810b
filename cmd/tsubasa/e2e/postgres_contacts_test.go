package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// TestAdminFindMembersByContactOnPostgres: on PostgreSQL the back office
// finds a member by email and by mobile number through the admin API (the
// contact columns and their indexes, migration 8); once an agent changes
// the member's contacts, the old ones find no one and the new ones find
// the member; once the member is erased, neither finds anyone.
func TestAdminFindMembersByContactOnPostgres(t *testing.T) {
	s := StartWithMember(t, Options{Postgres: PostgresURL(t)})
	tok := OpsToken(t, s)
	find := func(key, value string) []string {
		t.Helper()
		a := AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/members?"+url.Values{key: {value}}.Encode(), tok, "")
		var out adminapi.MembersFound
		if a.JSON(t, &out); a.Status != http.StatusOK {
			t.Fatalf("find %s=%s: %d %s", key, value, a.Status, a.Body)
		}
		var numbers []string
		for _, m := range out.Members {
			numbers = append(numbers, m.Number)
		}
		return numbers
	}
	want := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: found %v, want %v", what, got, want)
		}
	}
	want("by the member's email", find("email", "hanako@example.com"), MemberNumber)

	_, etag := getMember(t, s, tok, MemberNumber)
	a := AdminDo(t, s, http.MethodPatch, membersPath+MemberNumber, tok,
		`{"email":"sora@example.jp","phone":"090-5555-0123"}`, "If-Match", etag)
	if a.Status != http.StatusOK {
		t.Fatalf("changing the member's contacts: %d %s", a.Status, a.Body)
	}
	want("by the old email", find("email", "hanako@example.com"))
	want("by the new email", find("email", "sora@example.jp"), MemberNumber)
	want("by the new phone, national", find("phone", "090-5555-0123"), MemberNumber)
	want("by the new phone, E.164", find("phone", "+819055550123"), MemberNumber)

	_, etag = getMember(t, s, tok, MemberNumber)
	if a := AdminDo(t, s, http.MethodDelete, membersPath+MemberNumber, tok, "", "If-Match", etag); a.Status != http.StatusOK {
		t.Fatalf("erasing the member: %d %s", a.Status, a.Body)
	}
	want("by the email after erasure", find("email", "sora@example.jp"))
	want("by the phone after erasure", find("phone", "+819055550123"))
}
