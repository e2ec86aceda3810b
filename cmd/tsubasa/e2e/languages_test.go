package e2e

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/provider/notify/notifytest"
)

// TestLanguagesConfigured: ui.languages decides what discovery advertises,
// what the pages speak and offer, and which is the fallback: with [en,
// ko] a Japanese browser gets English, a Korean one Korean, and ?lang=ja
// changes nothing.
func TestLanguagesConfigured(t *testing.T) {
	s := Start(t, Options{Extra: "ui:\n  languages: [en, ko]\n"})
	resp, err := http.Get(s.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UILocales []string `json:"ui_locales_supported"`
	}
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil || !slices.Equal(d.UILocales, []string{"en", "ko"}) {
		t.Fatalf("ui_locales_supported = %v (%v), want [en ko]", d.UILocales, err)
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789", "openid")
	for _, tc := range []struct{ accept, uiLocales, want string }{
		{"ja-JP,ja;q=0.9", "", "en"},
		{"ko-KR,ko;q=0.9", "", "ko"},
		{"", "", "en"},
		{"ko", "ja en", "en"},
		{"en", "zh-TW ko", "ko"},
	} {
		b := NewBrowser(t, s)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("ui_locales", tc.uiLocales)), nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		p := b.Send(t, req)
		if !strings.Contains(p.Body, `<html lang="`+tc.want+`">`) {
			t.Errorf("Accept-Language %q, ui_locales %q: want the login page in %s:\n%.400s", tc.accept, tc.uiLocales, tc.want, p.Body)
		}
		offered := regexp.MustCompile(`hreflang="([^"]+)"|aria-current="true" lang="([^"]+)"`).FindAllStringSubmatch(p.Body, -1)
		var langs []string
		for _, m := range offered {
			langs = append(langs, m[1]+m[2])
		}
		slices.Sort(langs)
		if !slices.Equal(langs, []string{"en", "ko"}) {
			t.Errorf("the language menu offers %v, want en and ko", langs)
		}
	}
	b := NewBrowser(t, s)
	login := b.Get(t, rp.AuthURL(NewFlow()))
	if p := b.Get(t, login.URL.String()+"&lang=ja"); !strings.Contains(p.Body, `<html lang="en">`) {
		t.Errorf("?lang=ja with Japanese not configured: the page is not the fallback English:\n%.300s", p.Body)
	}
	if p := b.Get(t, login.URL.String()+"&lang=ko-KR"); !strings.Contains(p.Body, `<html lang="ko">`) {
		t.Errorf("?lang=ko-KR: the page is not Korean:\n%.300s", p.Body)
	}
}

// TestLanguagesUnknownRefused: a language with no catalogs is a config
// error naming the key and what ships, before anything starts.
func TestLanguagesUnknownRefused(t *testing.T) {
	s := Start(t, Options{})
	for env, want := range map[string]string{
		"TSUBASA_UI_LANGUAGES=ja,fr":    `ui.languages[1]: no catalog for "fr"; the languages shipped are ja, en, `,
		"TSUBASA_UI_LANGUAGES=zh-TW,ja": `ui.languages[0]: no catalog for "zh-TW"; the languages shipped are ja, en, zh-Hans, zh-Hant, ko (for this one, write "zh-Hant")`,
	} {
		cmd := exec.CommandContext(t.Context(), binary, "serve", "--config", s.Config)
		cmd.Env = append(cleanEnv(), env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("serve with %s: %v, want a config error saying %s:\n%s", env, err, want, out)
		}
	}
}

// TestLanguagesMail: the one-time password comes in the language of the
// page that asked for it (ui_locales=zh-CN: Simplified Chinese), and a
// member whose language is Traditional Chinese (created as zh-TW) gets
// the login alert in it, English after.
func TestLanguagesMail(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Extra: "otp:\n  on_login: always\n"}
	_, o.SMTPPort = smtp.Addr()
	s := Start(t, o)
	s.CLI(t, false, "member", "create", "--number", MemberNumber, "--password", MemberPass,
		"--family-name", "陳", "--given-name", "美玲", "--email", memberEmail, "--country", "TW", "--locale", "zh-TW")
	if out := s.CLI(t, false, "member", "show", MemberNumber); !strings.Contains(out, "zh-Hant") {
		t.Errorf("member created with --locale zh-TW is not stored as zh-Hant:\n%s", out)
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789", "openid")
	b := NewBrowser(t, s)
	p := b.Get(t, rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("ui_locales", "zh-CN")))
	if !strings.Contains(p.Body, `<html lang="zh-Hans">`) || !strings.Contains(p.Body, "会员登录") {
		t.Fatalf("ui_locales=zh-CN: the login page is not in Simplified Chinese:\n%.400s", p.Body)
	}
	otpPage := b.Post(t, p.URL, "/login", map[string][]string{"authRequestID": {p.AuthRequestID(t)}, "member_number": {MemberNumber}, "password": {MemberPass}})
	if otpPage.Location != "" {
		otpPage = b.Get(t, s.Issuer+otpPage.Location)
	}
	if !strings.Contains(otpPage.Body, "输入一次性密码") {
		t.Errorf("the code page is not in Simplified Chinese:\n%.600s", otpPage.Body)
	}
	mail, code := MailCode(t, smtp, 1)
	Callback(t, enterCode(t, b, otpPage, code))
	if mail.Subject != "[Tsubasa]一次性密码通知" || !strings.Contains(mail.Text, "以下是用于登录的一次性密码。") {
		t.Errorf("the code mail is not in Simplified Chinese: %q\n%s", mail.Subject, mail.Text)
	}
	alert := smtp.WaitFor(t, func(m notifytest.ReceivedMail) bool { return strings.Contains(m.Subject, "Login from new device") }, 30*time.Second)
	text := lf(alert.Text)
	if alert.Subject != "[Tsubasa]偵測到來自新環境的登入/Login from new device" {
		t.Errorf("alert subject %q, want Traditional Chinese then English", alert.Subject)
	}
	if i, j := strings.Index(text, "如果這次登入並非您本人所為"), strings.Index(text, "(English version)"); i < 0 || j < i {
		t.Errorf("the alert is not Traditional Chinese first, English after:\n%s", text)
	}
	// The member lives in Taiwan, an hour behind Japan: the alert gives
	// both times.
	if !regexp.MustCompile(`\[日期時間 Date/Time\] \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} \(JST\) / \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} \(UTC\+8\)\n`).MatchString(text) {
		t.Errorf("the alert does not give the time in Japan and in Taiwan:\n%s", text)
	}
	if !strings.Contains(text, "[會員號碼 Member No.] "+maskedNumber) {
		t.Errorf("the alert's facts are not labelled in both languages:\n%s", text)
	}
}
