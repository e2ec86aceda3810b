package storage

import "context"

// Units hold back a request's writes until it answers.
//
// A login writes several records that nothing reads before it answers: the
// event that the password was right, the login with its device, the new
// session. Each is a commit, with its fsyncs, if written alone. Under a
// context from Begin, the writes documented as holdable (AppendEvent,
// RecordLogin without an alert, CreateSession) are held instead, and
// committed in one transaction with the request's next write that is not
// (the authorization code it answers with, say), or by the function Begin
// returns, which the request calls before it answers. Either way they are
// durable before the answer, or the answer is an error.
//
// A held write is not seen by reads, not even the request's own: hold
// only what the request does not read back. Writes see it (they commit
// after it, in the same transaction). A held write that fails fails the
// write it commits with, or the function, with its error; none of the
// writes held with it are committed.
type Units interface {
	// Begin returns ctx with a unit open, and the function that commits
	// what is held and closes the unit: writes under ctx after it commit
	// at once again. It returns the failure of any write held in the unit
	// (committed with another write or by itself), so calling it last
	// tells whether everything the request held is stored.
	Begin(ctx context.Context) (context.Context, func() error)
}

// Unit is the open unit a context carries, as far as callers outside the
// backend need it.
type Unit interface {
	// After runs fn once what the unit holds is committed, and reports
	// true; false when the unit is closed (the caller runs fn itself).
	// fn never runs when the commit fails.
	After(fn func()) bool
}

type unitKey struct{}

// WithUnit returns ctx carrying u; for backends.
func WithUnit(ctx context.Context, u Unit) context.Context {
	return context.WithValue(ctx, unitKey{}, u)
}

// UnitOf returns the unit ctx carries, or nil; for backends.
func UnitOf(ctx context.Context) Unit {
	u, _ := ctx.Value(unitKey{}).(Unit)
	return u
}

// AfterCommit runs fn once the writes ctx holds back are committed, or at
// once when it holds none: for what must follow a write, such as a log
// line saying it happened or a nudge to a worker that will read it.
func AfterCommit(ctx context.Context, fn func()) {
	if u := UnitOf(ctx); u != nil && u.After(fn) {
		return
	}
	fn()
}

// Direct returns ctx without its unit: writes under it are stored at
// once. For a write whose timing must not depend on the answer, such as
// a failed login's, whose answer is padded to a common duration.
func Direct(ctx context.Context) context.Context {
	return context.WithValue(ctx, unitKey{}, nil)
}
