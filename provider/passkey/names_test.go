package passkey

import (
	"strings"
	"testing"
	"unicode/utf8"

	"tsubasa/storage"
)

func TestNameFromUserAgent(t *testing.T) {
	tests := []struct{ ua, want string }{
		{chromeUA, "Chrome on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/140.0 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", "Safari on Mac"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", "Firefox on Linux"},
		{"curl/8.0", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := nameFromUserAgent(tt.ua); got != tt.want {
			t.Errorf("nameFromUserAgent(%.40q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

func TestDefaultNameFallbacks(t *testing.T) {
	if got := defaultName(make([]byte, 16), "curl/8.0", nil); got != fallbackName {
		t.Errorf("zero AAGUID, unknown agent: %q", got)
	}
	long := strings.Repeat("名", MaxNameLength)
	existing := []storage.Passkey{{Name: long}}
	got := uniqueName(long, existing)
	if utf8.RuneCountInString(got) > MaxNameLength || !strings.HasSuffix(got, " (2)") {
		t.Errorf("uniqueName of a full-length name: %q", got)
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"", "phone", " 仕事用 ", "a\x00", "\u202e", strings.Repeat("x", 80)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CleanName(s)
		if err != nil {
			return
		}
		if got == "" || utf8.RuneCountInString(got) > MaxNameLength || got != strings.TrimSpace(got) {
			t.Fatalf("CleanName(%q) = %q", s, got)
		}
		if again, err := CleanName(got); err != nil || again != got {
			t.Fatalf("CleanName not idempotent on %q", got)
		}
	})
}
