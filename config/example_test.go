package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const examplePath = "config.example.yaml"

func TestExampleLoadsAndValidates(t *testing.T) {
	c, err := Load(examplePath, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate:\n%v", err)
	}
	if !c.Dev {
		t.Error("the example must be dev-safe (dev: true)")
	}
	// Apart from dev, the demo client and the example apps, the example shows the defaults, so
	// its "Default:" comments and Default() cannot disagree in value.
	c.Dev, c.Clients = false, nil
	c.Passkeys.Apps = PasskeyAppsConfig{} // shown with an example app of each platform
	if len(c.Passkeys.Origins) == 0 {
		c.Passkeys.Origins = nil
	}
	if d := Default(); !reflect.DeepEqual(c, d) {
		t.Errorf("example values differ from Default():\n got %+v\nwant %+v", c, d)
	}
}

// TestExampleCoversEveryKey fails when a key is added to Config but not
// documented in the example file.
func TestExampleCoversEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	collectKeys(doc.Content[0], "", present)
	for _, k := range leafKeys(reflect.TypeFor[Config](), "") {
		// otp_smtp is shown as null with a note that it takes smtp's keys.
		if rest, ok := strings.CutPrefix(k, "mail.otp_smtp."); ok {
			if !present["mail.otp_smtp"] || !present["mail.smtp."+rest] {
				t.Errorf("example lacks %s", k)
			}
			continue
		}
		if !present[k] {
			t.Errorf("example lacks %s", k)
		}
	}
	if !slices.Contains(leafKeys(reflect.TypeFor[Config](), ""), "otp.formats") {
		t.Error("leafKeys is broken")
	}
}

func collectKeys(n *yaml.Node, prefix string, out map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := joinPath(prefix, n.Content[i].Value)
			out[k] = true
			if prefix == "otp.formats" {
				continue
			}
			collectKeys(n.Content[i+1], k, out)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			collectKeys(item, prefix, out)
		}
	}
}
