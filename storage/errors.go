package storage

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
)

// Sentinel errors. Backends wrap them with %w and add context.
var (
	// ErrNotFound: no such record, or it has expired.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: the key or a unique index is taken.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConsumed: a single-use record (code, OTP, refresh token) was already claimed.
	ErrConsumed = errors.New("storage: already consumed")
)

// Unavailable reports whether err says the backend could not be reached or
// did not answer in time, rather than that anything was decided: a
// connection refused, ended or timed out, a database that refuses
// connections, shuts down or is overloaded, a statement cancelled by its
// timeout. The request may succeed later, so callers answer 503 (try
// again) instead of 500, and never "invalid" or "not found".
//
// It looks at the error chain through interfaces only, so that storage
// imports no driver: net.Error (dial, read and write failures and
// timeouts), SQLState() of a database error (pgx's PgError: classes 08
// connection exception and 57P operator intervention, 53300
// too_many_connections, 57014 query_canceled, 55000 for a database whose
// connections are turned off), and SafeToRetry() (pgx's errors for a
// request that never reached the server, such as a closed connection).
// ErrNotFound, ErrAlreadyExists and ErrConsumed are never unavailable.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrAlreadyExists) || errors.Is(err, ErrConsumed) {
		return false
	}
	var sql interface{ SQLState() string }
	if errors.As(err, &sql) {
		code := sql.SQLState()
		switch {
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"),
			code == "53300", code == "57014", code == "55000":
			return true
		}
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}
