package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"tsubasa/config"
	"tsubasa/provider"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// The administration operations (clients, members, signing keys) are
// written once, as methods of adminOps, and reached two ways: through the
// running server's admin socket (bbolt allows one process per file, so the
// CLI cannot open the database while the server runs), or directly on the
// database file when no server holds it. Both ways go through adminRoutes,
// so a command behaves the same whichever way it ran.

// adminOps are the operations of the admin API over one open store.
type adminOps struct {
	cfg     config.Config // client defaults and validation rules
	store   storage.Store
	hmacKey []byte
	members *member.Service
	// rotateKeys rotates the signing keys. The server passes the running
	// provider's RotateKeys, so it signs with the new keys at once.
	rotateKeys func(ctx context.Context) ([]storage.SigningKey, error)
	// static are the clients of the config file: read-only here.
	static map[string]storage.Client
	now    func() time.Time
	// progress receives import progress in direct mode (the operator's
	// terminal); nil on the server.
	progress io.Writer
}

// newAdminOps builds the operations over d. rotate is the running
// provider's RotateKeys; nil (the CLI's direct mode) rotates in the database
// only, which is right when no server is running.
func newAdminOps(d *deps, rotate func(ctx context.Context) ([]storage.SigningKey, error)) *adminOps {
	o := &adminOps{
		cfg:        d.cfg,
		store:      d.store,
		hmacKey:    d.hmacKey,
		members:    d.members,
		rotateKeys: rotate,
		static:     map[string]storage.Client{},
		now:        time.Now,
	}
	for _, c := range staticClients(d.cfg, d.hmacKey) {
		o.static[c.ID] = c
	}
	if o.rotateKeys == nil {
		o.rotateKeys = func(ctx context.Context) ([]storage.SigningKey, error) {
			retention := provider.Options{
				IDTokenTTL:     d.cfg.Tokens.IDTokenTTL,
				AccessTokenTTL: d.cfg.Tokens.AccessTokenTTL,
			}.KeyRetention()
			return provider.RotateKeys(ctx, d.store, d.cfg.Keys.RSABits, o.now(), retention)
		}
	}
	return o
}

// adminError is an error the admin API reports to the operator: its text is
// written for them and carries no internal detail.
type adminError struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
}

func (e *adminError) Error() string { return e.Message }

func invalid(field, format string, args ...any) *adminError {
	return &adminError{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *adminError {
	return &adminError{Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(field, format string, args ...any) *adminError {
	return &adminError{Status: http.StatusConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// asAdminError classifies err for the operator; nil means an internal
// failure whose detail belongs in the server log only.
func asAdminError(err error) *adminError {
	var ae *adminError
	if errors.As(err, &ae) {
		return ae
	}
	var fe *member.FieldErrors
	if errors.As(err, &fe) {
		status := http.StatusBadRequest
		if errors.Is(err, storage.ErrAlreadyExists) {
			status = http.StatusConflict
		}
		return &adminError{Status: status, Field: firstField(fe), Message: memberFieldsMessage(fe)}
	}
	var pe *member.PolicyError
	if errors.As(err, &pe) {
		return invalid("password", "password: %s", policyMessage(pe.Violations))
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return notFound("not found")
	case errors.Is(err, storage.ErrAlreadyExists):
		return conflict("", "already exists")
	case errors.Is(err, member.ErrSamePassword):
		return invalid("password", "password: the new password equals the current one")
	case errors.Is(err, member.ErrBusy):
		return busy
	}
	return nil
}

// adminRequest is what an operation is given: the request body (JSON, or
// the file of an import) and the query parameters.
type adminRequest struct {
	Body  io.Reader
	Query url.Values
}

// adminHandler runs one operation and returns what to answer.
type adminHandler func(ctx context.Context, o *adminOps, req adminRequest) (any, error)

// jsonOp adapts an operation taking and returning JSON values.
func jsonOp[In, Out any](f func(o *adminOps, ctx context.Context, in In) (Out, error)) adminHandler {
	return func(ctx context.Context, o *adminOps, req adminRequest) (any, error) {
		var in In
		dec := json.NewDecoder(io.LimitReader(req.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			return nil, invalid("", "malformed request: %v", err)
		}
		return f(o, ctx, in)
	}
}

// idInput names a client; numberInput a member.
type idInput struct {
	ID string `json:"id"`
}

type numberInput struct {
	Number string `json:"number"`
}

type statusInput struct {
	Number string `json:"number"`
	Status string `json:"status"` // disabled or active
}

type passwordInput struct {
	Number   string `json:"number"`
	Password string `json:"password"`
}

type empty struct{}

// adminRoutes are the operations by name; the admin server serves each at
// POST /v1/<name>.
var adminRoutes = map[string]adminHandler{
	"client/add": jsonOp((*adminOps).addClient),
	"client/list": jsonOp(func(o *adminOps, ctx context.Context, _ empty) ([]clientView, error) {
		return o.listClients(ctx)
	}),
	"client/show": jsonOp(func(o *adminOps, ctx context.Context, in idInput) (clientView, error) {
		return o.showClient(ctx, in.ID)
	}),
	"client/remove": jsonOp(func(o *adminOps, ctx context.Context, in idInput) (removedClient, error) {
		return o.removeClient(ctx, in.ID)
	}),
	"client/rotate-secret": jsonOp(func(o *adminOps, ctx context.Context, in idInput) (clientOutput, error) {
		return o.rotateClientSecret(ctx, in.ID)
	}),
	"member/create": jsonOp((*adminOps).createMember),
	"member/show": jsonOp(func(o *adminOps, ctx context.Context, in numberInput) (memberView, error) {
		return o.showMember(ctx, in.Number)
	}),
	"member/status": jsonOp(func(o *adminOps, ctx context.Context, in statusInput) (memberView, error) {
		return o.setMemberStatus(ctx, in.Number, in.Status)
	}),
	"member/password": jsonOp(func(o *adminOps, ctx context.Context, in passwordInput) (passwordOutput, error) {
		return o.setMemberPassword(ctx, in.Number, in.Password)
	}),
	"member/import": func(ctx context.Context, o *adminOps, req adminRequest) (any, error) {
		return o.importMembers(ctx, req.Body, req.Query.Get("contacts_verified") == "true")
	},
	"events/list": jsonOp((*adminOps).listEvents),
	"keys/list": jsonOp(func(o *adminOps, ctx context.Context, _ empty) ([]keyView, error) {
		return o.listKeys(ctx)
	}),
	"keys/rotate": jsonOp(func(o *adminOps, ctx context.Context, _ empty) ([]keyView, error) {
		return o.rotateKeysOp(ctx)
	}),
}
