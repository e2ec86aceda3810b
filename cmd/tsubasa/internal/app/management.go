package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// management is the listener for what operators' tools read and nobody
// else should: /metrics, which has no authentication, so it is not on the
// public listener (as Keycloak keeps metrics on its management port).
// /healthz and /readyz stay public: load balancers probe them there.
type management struct {
	ln  net.Listener
	srv *http.Server
}

// listenManagement opens metrics.listen, or returns nil when metrics are
// off. A port that cannot be had fails start-up, naming the key.
func (s *server) listenManagement(log *slog.Logger) (*management, error) {
	cfg := s.deps.Config.Metrics
	if !cfg.Enabled {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w (choose another address, or set metrics.enabled: false)", cfg.Listen, err)
	}
	loopback := false
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil {
		loopback = ap.Addr().IsLoopback()
	}
	if cfg.Pprof && !loopback {
		_ = ln.Close()
		return nil, fmt.Errorf("metrics.pprof: the management listener %s is not on loopback; profiles are served on loopback only", ln.Addr())
	}
	if !loopback {
		log.Warn("the management listener is not on loopback: /metrics has no authentication, so let only the metrics scraper reach it",
			"metrics_listen", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	if cfg.Pprof {
		// Go's profiles, for an operator measuring this replica: for
		// example go tool pprof http://127.0.0.1:9090/debug/pprof/profile?seconds=10
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		log.Info("profiles are served on the management listener", "metrics_listen", ln.Addr().String())
	}
	return &management{ln: ln, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}
