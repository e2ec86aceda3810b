package app

import (
	"os"
	"testing"

	"tsubasa/config"
)

// loadConfig reads a config file as the command does.
func loadConfig(t testing.TB, path string) config.Config {
	t.Helper()
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dev {
		config.DevDefaults(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}
