package e2e

import (
	"regexp"
	"testing"
	"time"

	"tsubasa/provider/notify/notifytest"
)

var (
	codeLineRe = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`) // the line of a code mail that holds the code
	smsRe      = regexp.MustCompile(`\b(\d{6})\b`)
)

// CodeMails are the mails smtp received so far that carry a 6-digit code
// (login alerts may arrive in between).
func CodeMails(smtp *notifytest.SMTPServer) []notifytest.ReceivedMail {
	var out []notifytest.ReceivedMail
	for _, m := range smtp.Messages() {
		if codeLineRe.MatchString(m.Text) {
			out = append(out, m)
		}
	}
	return out
}

// MailCode waits for code mail number n (counting from 1) at smtp and
// returns it and its code.
func MailCode(t *testing.T, smtp *notifytest.SMTPServer, n int) (notifytest.ReceivedMail, string) {
	t.Helper()
	smtp.WaitFor(t, func(notifytest.ReceivedMail) bool { return len(CodeMails(smtp)) >= n }, 20*time.Second)
	got := CodeMails(smtp)[n-1]
	return got, codeLineRe.FindStringSubmatch(got.Text)[1]
}
