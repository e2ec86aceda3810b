package admin

import (
	"context"

	"tsubasa/provider/member"
)

// Caller is who makes an admin call, as the transport knows it: over the
// HTTP API the client its token was issued to and the agent it named;
// nothing over the admin socket (the server's own user).
type Caller struct {
	ClientID  string
	Agent     string
	IP        string
	UserAgent string
}

// Subject is what an operation found its request to concern, for the
// transport's audit event: the member, once the operation has looked the
// member up.
type Subject struct {
	MemberID string
}

type callerKey struct{}

type subjectKey struct{}

// WithCaller returns ctx carrying the caller of the operations run under
// it, and a Subject they fill in.
func WithCaller(ctx context.Context, c Caller) (context.Context, *Subject) {
	sub := &Subject{}
	ctx = context.WithValue(ctx, callerKey{}, c)
	return context.WithValue(ctx, subjectKey{}, sub), sub
}

func callerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// concerns records that the operation under ctx concerns the member.
func concerns(ctx context.Context, memberID string) {
	if sub, ok := ctx.Value(subjectKey{}).(*Subject); ok && sub.MemberID == "" {
		sub.MemberID = memberID
	}
}

// change is an operator's credential change of kind, made by ctx's
// caller.
func change(ctx context.Context, kind string) member.Change {
	c := callerOf(ctx)
	return member.Change{Kind: kind, By: member.ByOperator, IP: c.IP, UserAgent: c.UserAgent}
}
