package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"tsubasa/config"
	"tsubasa/provider/audit"
)

// Serve runs the server of cfg until ctx ends: the HTTP listener, the
// management listener (metrics.listen), the admin socket, key rotation and
// the janitors (expired records, and audit events past audit.retention),
// and the outbox worker. Logs go to stderr; development mode
// prints its demo client and member to stdout.
func Serve(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	slog.SetDefault(log) // zitadel/oidc logs through the default logger
	tuneRuntime(cfg, log)
	d, err := Open(ctx, cfg, log, time.Second)
	if err != nil {
		return err
	}
	defer d.Close()
	if cfg.Dev {
		if err := seedDev(ctx, d, stdout); err != nil {
			return err
		}
	}
	return ServeDeps(ctx, d)
}

// ServeDeps is Serve on a database already open (d, with its config and
// logger), which the caller closes once it returns, without development
// mode's demo client and member: for tests that look into the database of
// a server they run in their own process.
func ServeDeps(ctx context.Context, d *Deps) error {
	cfg, log := d.Config, d.Log
	s, err := newServer(ctx, d)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	mgmt, err := s.listenManagement(log)
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.provider.Run(ctx, time.Minute) })
	wg.Go(func() { audit.NewRetention(d.Store, cfg.Audit.Retention, log, nil).Run(ctx, time.Minute) })
	wg.Go(func() {
		if err := s.msg.worker.Run(ctx); err != nil {
			log.Error("outbox worker stopped", "err", err)
		}
	})
	// On PostgreSQL there is no admin socket: the CLI opens the shared
	// database itself, and the provider's key ring hears its rotations
	// (provider.Run keeps it current on every replica).
	if !cfg.UsesPostgres() {
		if err := s.startAdmin(ctx, &wg); err != nil {
			return err
		}
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	metricsAt := ""
	if mgmt != nil {
		metricsAt = mgmt.ln.Addr().String()
		go func() { errc <- fmt.Errorf("metrics.listen: %w", mgmt.srv.Serve(mgmt.ln)) }()
	}
	log.Info("tsubasa serving", "issuer", cfg.Issuer, "listen", ln.Addr().String(), "dev", cfg.Dev, "database", databaseName(cfg),
		"metrics_listen", metricsAt, "trusted_proxies", len(cfg.TrustedProxies))
	select {
	case err := <-errc:
		cancel()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, done := context.WithTimeout(context.Background(), 15*time.Second)
	defer done()
	err = hs.Shutdown(shutCtx)
	if mgmt != nil {
		_ = mgmt.srv.Shutdown(shutCtx) // a scrape cut short loses nothing
	}
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
