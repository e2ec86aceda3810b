package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

func sampleLoginAlert() LoginAlertData {
	return LoginAlertData{
		Brand:             "Tsubasa",
		MemberNumber:      "123456321",
		When:              time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC),
		Location:          jst,
		ZoneLabel:         "JST",
		Device:            "iPhone(mobile)",
		Browser:           "chrome",
		IP:                "203.0.113.7",
		ChangePasswordURL: "https://id.example.com/account/password",
		NotMeURL:          "https://id.example.com/account/not-me?t=abc&u=1",
	}
}

// sampleData has one valid value per kind.
func sampleData() map[string]any {
	return map[string]any{
		KindOTP: OTPData{
			Brand: "Tsubasa", Code: "482915", ValidMinutes: 10, Purpose: "login",
			Pictograms: []Pictogram{{"✈", "ひこうき"}, {"🍎", "りんご"}, {"🌙", "つき"}},
		},
		KindLoginAlert: sampleLoginAlert(),
		KindAppLinked: AppLinkedData{
			Brand: "Tsubasa", MemberNumber: "7654321", AppName: "Hotel <Partner> & Co",
			When: time.Date(2025, 7, 1, 9, 30, 0, 0, jst), Location: jst, ZoneLabel: "JST",
			ManageURL: "https://id.example.com/account/apps", ChangePasswordURL: "https://id.example.com/account/password",
		},
		KindContactVerify: ContactVerifyData{Brand: "Tsubasa", Code: "730164", ValidMinutes: 30, Address: "new@example.com"},
		KindContactTest: ContactTestData{Brand: "Tsubasa", Address: "hanako@example.com", ValidHours: 72,
			ConfirmURL: "https://id.example.com/account/contacts/received?t=abc"},
		KindSupportCode: SupportCodeData{Brand: "Tsubasa", Code: "305917", ValidMinutes: 10},
	}
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

func TestRenderEveryKindAndLocale(t *testing.T) {
	r := newTestRenderer(t)
	data := sampleData()
	for _, kind := range Kinds() {
		for _, tc := range []struct {
			locale   string
			wantLang string
			firstJA  bool
		}{
			{"ja", `lang="ja"`, true},
			{"ja-JP", `lang="ja"`, true},
			{"", `lang="ja"`, true},
			{"en", `lang="en"`, false},
			{"en-US", `lang="en"`, false},
			{"fr", `lang="en"`, false},
		} {
			t.Run(kind+"/"+tc.locale, func(t *testing.T) {
				subject, text, html, err := r.Render(kind, tc.locale, data[kind])
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if subject == "" || strings.ContainsAny(subject, "\r\n") {
					t.Errorf("subject %q: want one non-empty line", subject)
				}
				if !strings.Contains(subject, "[Tsubasa]") {
					t.Errorf("subject %q lacks the brand", subject)
				}
				if !strings.Contains(html, tc.wantLang) {
					t.Errorf("html lacks %s", tc.wantLang)
				}
				for _, bad := range []string{"<no value>", "http://", "<img", "<script", "<link", "src="} {
					if strings.Contains(text, bad) || strings.Contains(html, bad) {
						t.Errorf("output contains %q", bad)
					}
				}
				var want string
				switch {
				case kind == KindLoginAlert || kind == KindAppLinked:
					want = map[bool]string{true: "(English version)", false: "(日本語版)"}[tc.firstJA]
				case tc.firstJA:
					want = "ありがとうございます"
				default:
					want = "Thank you"
				}
				if !strings.Contains(text, want) || !strings.Contains(html, want) {
					t.Errorf("text or html lacks %q:\n%s", want, text)
				}
			})
		}
	}
}

func TestRenderMonolingualLanguage(t *testing.T) {
	r := newTestRenderer(t)
	data := sampleData()
	for _, kind := range []string{KindOTP, KindContactVerify} {
		_, en, _, err := r.Render(kind, "en", data[kind])
		if err != nil {
			t.Fatal(err)
		}
		// Kana, but not the "・" bullet the English text shares. The OTP
		// sample has Japanese pictogram labels, so only its frame counts.
		isKana := func(r rune) bool { return r >= 0x3041 && r <= 0x30fa }
		if kind != KindOTP && strings.ContainsFunc(en, isKana) {
			t.Errorf("%s en text contains kana:\n%s", kind, en)
		}
		_, ja, _, err := r.Render(kind, "ja", data[kind])
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ja, "Thank you") {
			t.Errorf("%s ja text contains English:\n%s", kind, ja)
		}
	}
}

func TestRenderOTPContent(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		name    string
		locale  string
		data    OTPData
		want    []string
		notWant []string
	}{
		{"code ja", "ja", OTPData{Brand: "B", Code: "123456", ValidMinutes: 10},
			[]string{"123456", "10分間", "最新のメール", "一度使用すると"}, []string{"絵文字"}},
		{"code en", "en", OTPData{Brand: "B", Code: "123456", ValidMinutes: 5, Purpose: "passkey_register"},
			[]string{"123456", "5 minutes", "newest email", "register a passkey"}, []string{"pictograms"}},
		{"pictograms only", "ja", OTPData{Brand: "B", ValidMinutes: 10, Pictograms: []Pictogram{{"✈", "ひこうき"}, {"🍎", "りんご"}}},
			[]string{"1. ✈ (ひこうき)", "2. 🍎 (りんご)"}, []string{"■ワンタイムパスワード\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, text, html, err := r.Render(KindOTP, tc.locale, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(text, w) {
					t.Errorf("text has %q:\n%s", w, text)
				}
			}
			for _, p := range tc.data.Pictograms {
				if !strings.Contains(html, p.Symbol) || !strings.Contains(html, p.Label) {
					t.Errorf("html lacks pictogram %v", p)
				}
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	r := newTestRenderer(t)
	d := sampleLoginAlert()
	d.Device = `<script>alert(1)</script>`
	d.NotMeURL = "javascript:alert(1)"
	_, text, html, err := r.Render(KindLoginAlert, "ja", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "javascript:") {
		t.Errorf("html not escaped:\n%s", html)
	}
	if !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("html lacks escaped device")
	}
	if !strings.Contains(text, "<script>") {
		t.Errorf("text body should carry the value verbatim")
	}
}

func TestRenderRejectsBadData(t *testing.T) {
	r := newTestRenderer(t)
	otp := OTPData{Brand: "B", Code: "1", ValidMinutes: 1}
	for _, tc := range []struct {
		name string
		kind string
		data any
	}{
		{"unknown kind", "newsletter", otp},
		{"wrong type", KindLoginAlert, otp},
		{"nil pointer", KindOTP, (*OTPData)(nil)},
		{"nil", KindOTP, nil},
		{"no brand", KindOTP, OTPData{Code: "1", ValidMinutes: 1}},
		{"no code", KindOTP, OTPData{Brand: "B", ValidMinutes: 1}},
		{"no validity", KindContactVerify, ContactVerifyData{Brand: "B", Code: "1"}},
		{"no time", KindLoginAlert, LoginAlertData{Brand: "B", MemberNumber: "1234", ChangePasswordURL: "https://x"}},
		{"no password URL", KindAppLinked, AppLinkedData{Brand: "B", MemberNumber: "1", AppName: "a", ManageURL: "https://x", When: time.Now()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, err := r.Render(tc.kind, "ja", tc.data); err == nil {
				t.Error("want error")
			}
		})
	}
	// A pointer to valid data is fine.
	if _, _, _, err := r.Render(KindOTP, "ja", &otp); err != nil {
		t.Errorf("pointer data: %v", err)
	}
}

func TestNewRendererFSMissingTemplate(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, name := range []string{"common.txt", "common.html", "otp.txt", "otp.html", "login_alert.txt",
		"login_alert.html", "app_linked.txt", "app_linked.html", "contact_verify.txt", "contact_test.txt", "contact_test.html",
		"support_code.txt", "support_code.html"} {
		b, err := embedded.ReadFile("templates/" + name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	_, err := NewRendererFS(fsys)
	if err == nil || !strings.Contains(err.Error(), "contact_verify.html") {
		t.Fatalf("err = %v, want one naming contact_verify.html", err)
	}
	fsys["contact_verify.html"] = &fstest.MapFile{Data: []byte(`{{define "contact_verify.html"}}x{{end}}`)}
	if _, err := NewRendererFS(fsys); err != nil {
		t.Fatalf("with every template: %v", err)
	}
}

func TestLoginAlertGolden(t *testing.T) {
	r := newTestRenderer(t)
	for _, locale := range []string{LocaleJA, LocaleEN} {
		t.Run(locale, func(t *testing.T) {
			subject, text, html, err := r.Render(KindLoginAlert, locale, sampleLoginAlert())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "login_alert."+locale+".txt", "Subject: "+subject+"\n\n"+text)
			checkGolden(t, "login_alert."+locale+".html", html)
			for _, want := range []string{
				"******321", "2025/07/01 00:00:00(JST)", "iPhone(mobile)", "chrome", "203.0.113.7",
				"VPN", "(English version)", "(日本語版)", "https://id.example.com/account/password",
			} {
				if want == "(English version)" && locale == LocaleEN || want == "(日本語版)" && locale == LocaleJA {
					continue
				}
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q", want)
				}
			}
			if strings.Contains(text, "123456321") || strings.Contains(html, "123456321") {
				t.Error("full member number leaked")
			}
			if want := "[Tsubasa]新しいご利用環境からログインがありました/Login from new device"; subject != want {
				t.Errorf("subject = %q, want %q", subject, want)
			}
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s", name, got)
	}
}

func TestMaskMemberNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"123456321", "******321"},
		{"7654321", "****321"},
		{"1234-56-321", "******321"},
		{"123 456 321", "******321"},
		{"1234", "*234"},
		{"123", "***"},
		{"12", "**"},
		{"", ""},
		{"******321", "******321"},
	} {
		if got := MaskMemberNumber(tc.in); got != tc.want {
			t.Errorf("MaskMemberNumber(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatWhen(t *testing.T) {
	at := time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		loc   *time.Location
		label string
		want  string
	}{
		{"jst labelled", jst, "JST", "2025/07/01 00:00:00(JST)"},
		{"nil is utc", nil, "", "2025/06/30 15:00:00(UTC)"},
		{"abbreviation", time.FixedZone("CET", 3600), "", "2025/06/30 16:00:00(CET)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatWhen(at, tc.loc, tc.label); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
