package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// TestAdminCLIOverServerWithKey: the CLI's --server mode with a client
// that authenticates by its key (private_key_jwt), allowed to read
// members only: it reads a member as the socket would show it, every call
// names the agent, and a command beyond its scope is refused with a
// message saying so.
func TestAdminCLIOverServerWithKey(t *testing.T) {
	s := StartWithMember(t, Options{})
	key := NewPartnerKey(t, "ops-key-1")
	der, err := x509.MarshalPKCS8PrivateKey(key.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "ops.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	s.CLI(t, false, "client", "add", "--id", "reader", "--grant-type", "client_credentials", "--scope", adminapi.ScopeMembersRead,
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", key.JWKS)
	remote := []string{"--server", s.Issuer, "--client-id", "reader", "--client-key", keyFile, "--agent", "desk-7"}
	local := s.CLI(t, false, "member", "show", MemberNumber)
	over := s.CLI(t, false, append([]string{"member", "show", MemberNumber}, remote...)...)
	if over != local || !strings.Contains(over, "空野 花子") {
		t.Errorf("member show over --server:\n%s\nthrough the socket:\n%s", over, local)
	}
	out := s.CLI(t, true, append([]string{"member", "disable", MemberNumber}, remote...)...)
	if !strings.Contains(out, "no token for admin:members:write") && !strings.Contains(out, "not allowed") {
		t.Errorf("member disable beyond the client's scope:\n%s", out)
	}
	m, _ := getMember(t, s, OpsToken(t, s), MemberNumber)
	if m.Status != "active" {
		t.Errorf("the refused disable changed the member: %s", m.Status)
	}
}

// TestAdminAPIAcrossReplicas: with two replicas on one PostgreSQL, a job
// started on one is reported by the other, and a create retried on the
// other replica with the same Idempotency-Key gets the first answer
// instead of a second member.
func TestAdminAPIAcrossReplicas(t *testing.T) {
	db := PostgresURL(t)
	a := Start(t, Options{Postgres: db})
	b := Start(t, Options{Postgres: db, Env: []string{"TSUBASA_ISSUER=" + a.Issuer}})
	tok := OpsToken(t, a)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, a.Issuer+adminapi.Prefix+"/members:import",
		strings.NewReader("number,family_name_latin,pin\n2000001,Ito,135790\n"))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", adminapi.MediaCSV)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var job adminapi.JobView
	answerOf(t, resp).JSON(t, &job)
	var there adminapi.JobView
	AdminDo(t, b, http.MethodGet, adminapi.Prefix+"/jobs/"+job.ID, tok, "").JSON(t, &there)
	if there.ID != job.ID || there.State != adminapi.JobDone || there.Progress.Created != 1 {
		t.Errorf("the job on the other replica: %+v", there)
	}

	body := `{"number":"3000001","family_name_latin":"Abe"}`
	first := AdminDo(t, a, http.MethodPost, adminapi.Prefix+"/members", tok, body, "Idempotency-Key", "create-3000001")
	retry := AdminDo(t, b, http.MethodPost, adminapi.Prefix+"/members", tok, body, "Idempotency-Key", "create-3000001")
	if first.Status != http.StatusCreated || retry.Status != http.StatusCreated || string(retry.Body) != string(first.Body) ||
		retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("create %d %s; retried on the other replica %d %s (replayed %q)",
			first.Status, first.Body, retry.Status, retry.Body, retry.Header.Get("Idempotent-Replayed"))
	}
}
