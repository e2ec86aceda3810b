package risk

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestAlertGolden pins the whole alert mail, both languages, for the seed
// sample's login: member ******321 on Chrome on an iPhone at
// 2025-07-01 00:00:00 JST.
func TestAlertGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		locale string
		linked bool
	}{
		{"login_alert.ja.golden", "ja", false},
		{"login_alert.en.golden", "en", false},
		{"app_linked.ja.golden", "ja", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			st := &countingStore{Store: bolttest.Open(t, bolt.Options{})}
			e, _ := newEngine(t, st, Options{})
			m := testMember("alice", tc.locale)
			env := Environment{UserAgent: uaIPhoneChrome, IP: "203.0.113.7"}
			if tc.linked {
				if err := e.RecordAppLinked(t.Context(), m, "hotel", "Hotel <Partner> & Co", env); err != nil {
					t.Fatal(err)
				}
			} else {
				login(t, e, m, env)
			}
			alert := st.records[0].Alert
			if alert == nil {
				t.Fatal("no alert")
			}
			checkGolden(t, tc.file, render(alert))
		})
	}
}

func render(m *storage.OutboxMessage) string {
	return "To: " + m.To + "\nSubject: " + m.Subject + "\n\n" + m.Text + "\n===== HTML =====\n\n" + m.HTML
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
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
	if got != string(want) {
		t.Errorf("%s differs (run go test -update after checking the change):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
