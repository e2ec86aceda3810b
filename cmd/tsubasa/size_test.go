package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxMainLines is the budget of this package's own code: main and the
// package doc. Commands, wiring and features have packages of their own
// (internal/…, provider/…); a package main that grows back into them is
// caught here.
const maxMainLines = 1500

func TestMainPackageStaysThin(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		total += bytes.Count(b, []byte("\n"))
	}
	if total == 0 {
		t.Fatal("no source files found: run from the package directory")
	}
	if total > maxMainLines {
		t.Errorf("cmd/tsubasa has %d lines of non-test Go, over its budget of %d: move the code to a package of its own", total, maxMainLines)
	}
}
