package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"tsubasa/storage"
)

// sqlError is a database error as a driver reports it (pgx's PgError).
type sqlError string

func (e sqlError) Error() string    { return "sqlstate " + string(e) }
func (e sqlError) SQLState() string { return string(e) }

// retryError is a driver's error for a request that may or may not have
// reached the server.
type retryError bool

func (e retryError) Error() string     { return "request failed" }
func (e retryError) SafeToRetry() bool { return bool(e) }

func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"a plain error", errors.New("postgres: decode member: bad json"), false},
		{"connection refused", fmt.Errorf("postgres: get token: %w", refused), true},
		{"connection ended by the administrator (57P01)", fmt.Errorf("postgres: %w", sqlError("57P01")), true},
		{"database starting up (57P03)", sqlError("57P03"), true},
		{"connection failure (08006)", sqlError("08006"), true},
		{"too many connections (53300)", sqlError("53300"), true},
		{"statement timeout (57014)", sqlError("57014"), true},
		{"connections turned off (55000)", sqlError("55000"), true},
		{"unique violation (23505)", sqlError("23505"), false},
		{"serialization failure (40001)", sqlError("40001"), false},
		{"never sent", retryError(true), true},
		{"maybe sent", retryError(false), false},
		{"cut mid-answer", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), true},
		{"cancelled by the client", context.Canceled, false},
		{"not found, whatever else", errors.Join(storage.ErrNotFound, refused), false},
		{"consumed", fmt.Errorf("claim: %w", storage.ErrConsumed), false},
		{"already exists", fmt.Errorf("create: %w", storage.ErrAlreadyExists), false},
	} {
		if got := storage.Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
