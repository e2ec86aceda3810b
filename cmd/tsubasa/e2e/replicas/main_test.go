package replicas

import (
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
