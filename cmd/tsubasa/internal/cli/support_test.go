package cli

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/notify/notifytest"
)

// supportEnv is a CLI environment whose configuration file sends mail to
// a test SMTP server, so the support code reaches the "member" in every
// mode: the server's, or the CLI's own process in direct mode.
func supportEnv(t *testing.T) (*cliEnv, *notifytest.SMTPServer) {
	t.Helper()
	smtp := notifytest.NewSMTPServer(t)
	host, port := smtp.Addr()
	e := newCLIEnv(t)
	f, err := os.OpenFile(e.cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "mail:\n  smtp:\n    host: %s\n    port: %d\n    tls: none\n", host, port)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if e.cfg, err = (&globals{configPath: e.cfgPath}).loadConfig(); err != nil {
		t.Fatal(err)
	}
	return e, smtp
}

var supportCodeLine = regexp.MustCompile(`(?m)^(\d{6})\s*$`)

// TestCLISupportSession: `tsubasa member support start|show|verify` in
// every mode (--server, the admin socket, direct). The code goes by mail to
// the member and is never printed; a wrong code is refused with the
// entries left; the right one verifies the session. Over --server, with
// the default admin.support.require_verified_session, set-password is
// refused until it names the verified session; the socket's and direct
// mode's operators hold the database itself and are not asked for one.
func TestCLISupportSession(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"http", "socket", "direct"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e, smtp := supportEnv(t)
			e.mode = mode
			if mode != "direct" {
				e.startHTTP()
			}
			if mode == "socket" {
				e.extra = nil
			}
			e.ok("member", "create", "--number", "1234567", "--password", "Blue-Sky-Flight-88", "--family-name-latin", "yamada",
				"--email", "hanako@example.com")
			if mode == "http" {
				e.fails(1, []string{"support session", "tsubasa member support start"},
					"member", "set-password", "1234567", "--password", "Temporary-Kite-81")
			}

			var started adminapi.SupportSessionView
			e.okJSON(&started, "member", "support", "start", "1234567")
			if started.State != adminapi.SupportPending || started.Destination != "h***@example.com" || started.AttemptsLeft != 5 {
				t.Fatalf("support start: %+v", started)
			}
			msgs := smtp.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d mails after support start, want 1", len(msgs))
			}
			code := supportCodeLine.FindStringSubmatch(msgs[0].Text)
			if code == nil {
				t.Fatalf("no code in the support mail:\n%s", msgs[0].Text)
			}
			out := e.ok("member", "support", "show", "1234567", started.ID)
			if strings.Contains(out, code[1]) || !strings.Contains(out, "pending") {
				t.Errorf("support show:\n%s", out)
			}
			wrong := "000000"
			if code[1] == wrong {
				wrong = "111111"
			}
			e.fails(2, []string{"not the code", "4 entries left"}, "member", "support", "verify", "1234567", started.ID, "--code", wrong)
			out = e.ok("member", "support", "verify", "1234567", started.ID, "--code", code[1])
			if !strings.Contains(out, "verified") || strings.Contains(out, code[1]) {
				t.Errorf("support verify:\n%s", out)
			}
			e.fails(1, []string{"takes no more codes", "verified already"},
				"member", "support", "verify", "1234567", started.ID, "--code", code[1])
			out = e.ok("member", "set-password", "1234567", "--password", "Temporary-Kite-81", "--support-session", started.ID)
			if !strings.Contains(out, "Password of member 1234567 changed") {
				t.Errorf("set-password with the session:\n%s", out)
			}
		})
	}
}
