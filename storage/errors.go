package storage

import "errors"

// Sentinel errors. Backends wrap them with %w and add context.
var (
	// ErrNotFound: no such record, or it has expired.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: the key or a unique index is taken.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConsumed: a single-use record (code, OTP, refresh token) was already claimed.
	ErrConsumed = errors.New("storage: already consumed")
)
