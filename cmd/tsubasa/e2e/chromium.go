package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium (or another Chrome). Without one the
// browser suites skip, unless TSUBASA_REQUIRE_BROWSER=1 (CI) makes that a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TSUBASA_REQUIRE_BROWSER") == "1" {
		t.Fatal("Chromium is required (TSUBASA_REQUIRE_BROWSER=1) but not installed: apt-get install chromium")
	}
	t.Skip("browser suite skipped: Chromium not found (apt-get install chromium); set TSUBASA_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// StartChromium starts a fresh headless Chromium (a new profile) for one
// test, as CI runs it (as root, offline), and returns its chromedp
// context; the browser ends with the test. Without Chromium it skips t,
// or fails it with TSUBASA_REQUIRE_BROWSER=1.
func StartChromium(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser and must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}
