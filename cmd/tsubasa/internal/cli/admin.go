package cli

import (
	"context"
	"errors"
	"io"
	"net/http"

	"tsubasa/cmd/tsubasa/internal/adminsock"
	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider/admin/adminapi"
)

// The admin commands (client, member, keys, events) run the operations of
// the admin API: through the running server's admin socket when one
// answers (bbolt allows one process per file, so the CLI cannot open the
// database while the server runs), or directly on the database file when
// no server holds it. On PostgreSQL they always run directly: many
// processes may share the database, and there is no socket. Both ways run the same operations, so a command
// behaves the same whichever way it ran.

// call runs op with in through the server or directly. Validation errors
// come back as usage errors (exit status 2).
func call[In, Out any](ctx context.Context, g *globals, op adminapi.Op[In, Out], in In) (Out, error) {
	var out Out
	err := g.withAdmin(ctx, func(r adminsock.Runner) error {
		var err error
		out, err = adminsock.Call(ctx, r, op, in)
		return err
	})
	return out, usageFor(err)
}

// send runs an upload operation; file is called once per attempt.
func send[In adminapi.Upload, Out any](ctx context.Context, g *globals, op adminapi.Op[In, Out], in In, file func() (io.Reader, error)) (Out, error) {
	var out Out
	err := g.withAdmin(ctx, func(r adminsock.Runner) error {
		body, err := file()
		if err != nil {
			return err
		}
		out, err = adminsock.Send(ctx, r, op, in, body)
		return err
	})
	return out, usageFor(err)
}

// usageFor marks an operation's refusal of a bad request as a usage error.
func usageFor(err error) error {
	var ae *adminapi.Error
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return usageError{err}
	}
	return err
}

// withAdmin runs f with the running server's admin socket, or directly on
// the database when no server answers there; with --server, through that
// server's HTTP admin API, and no config or database is read here.
func (g *globals) withAdmin(ctx context.Context, f func(adminsock.Runner) error) error {
	if g.remote.server != "" {
		c, err := g.remote.client(ctx)
		if err != nil {
			return err
		}
		return f(c)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	// PostgreSQL has no admin socket: any number of processes share it,
	// so the CLI opens it directly while the replicas run.
	if c, ok := adminsock.Dial(cfg.AdminSocket()); ok && !cfg.UsesPostgres() {
		err := f(c)
		if !adminsock.NoServer(err) {
			return err
		}
		// The server stopped between the probe and the call: go direct.
	}
	r, closeDB, err := app.OpenAdmin(ctx, cfg, g.stderr)
	if err != nil {
		return err
	}
	err = f(r)
	if cerr := closeDB(); err == nil {
		err = cerr
	}
	return err
}
