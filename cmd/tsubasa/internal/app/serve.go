package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/storage"
)

func newServeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the identity provider",
		Long: `Run the identity provider. Without --config Tsubasa runs in development mode:
issuer http://localhost:8080, database under ./tsubasa-data/, a demo client and
member printed below, and a demo relying party at http://localhost:8080/demo/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.serve(cmd.Context())
		},
	}
}

func (g *globals) serve(ctx context.Context) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, g.stderr)
	slog.SetDefault(log) // zitadel/oidc logs through the default logger
	tuneRuntime(cfg, log)
	d, err := openDeps(ctx, cfg, log, time.Second)
	if err != nil {
		return err
	}
	defer d.Close()
	if cfg.Dev {
		if err := seedDev(ctx, d, g.stdout); err != nil {
			return err
		}
	}
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
	wg.Go(func() {
		if err := s.msg.worker.Run(ctx); err != nil {
			log.Error("outbox worker stopped", "err", err)
		}
	})
	if err := s.startAdmin(ctx, &wg); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	metricsAt := ""
	if mgmt != nil {
		metricsAt = mgmt.ln.Addr().String()
		go func() { errc <- fmt.Errorf("metrics.listen: %w", mgmt.srv.Serve(mgmt.ln)) }()
	}
	log.Info("tsubasa serving", "issuer", cfg.Issuer, "listen", ln.Addr().String(), "dev", cfg.Dev, "database", cfg.Storage.Bolt.Path,
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

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
