package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"

	"tsubasa/provider/admin/adminapi"
)

// handler runs one operation and returns what to answer.
type handler func(ctx context.Context, s *Service, req adminapi.Request) (any, error)

// operation is a row of the table: an operation's name and its handler.
// jsonOp and uploadOp build rows from an adminapi.Op and a method whose
// request and response types the compiler matches against the Op's.
type operation struct {
	name string
	run  handler
}

// table is the admin API: every operation of adminapi, the method that
// runs it. A new operation is a new row.
var table = []operation{
	jsonOp(adminapi.ClientAdd, (*Service).addClient),
	jsonOp(adminapi.ClientList, (*Service).listClients),
	jsonOp(adminapi.ClientShow, (*Service).showClient),
	jsonOp(adminapi.ClientRemove, (*Service).removeClient),
	jsonOp(adminapi.ClientRotateSecret, (*Service).rotateClientSecret),

	jsonOp(adminapi.MemberCreate, (*Service).createMember),
	jsonOp(adminapi.MemberShow, (*Service).showMember),
	jsonOp(adminapi.MemberStatus, (*Service).setMemberStatus),
	jsonOp(adminapi.MemberPassword, (*Service).setMemberPassword),
	uploadOp(adminapi.MemberImport, adminapi.ImportInputFrom, (*Service).importMembers),

	jsonOp(adminapi.EventsList, (*Service).listEvents),

	jsonOp(adminapi.KeysList, (*Service).listKeys),
	jsonOp(adminapi.KeysRotate, (*Service).rotateKeys),

	jsonOp(adminapi.BackupBegin, (*Service).beginBackup),
	jsonOp(adminapi.BackupRead, (*Service).readBackup),
	jsonOp(adminapi.BackupAbort, (*Service).abortBackup),
}

// operations is table by name.
var operations = func() map[string]handler {
	m := make(map[string]handler, len(table))
	for _, op := range table {
		if _, dup := m[op.name]; dup {
			panic("admin: operation " + op.name + " registered twice")
		}
		m[op.name] = op.run
	}
	return m
}()

// jsonOp adapts a method taking and returning JSON values.
func jsonOp[In, Out any](op adminapi.Op[In, Out], f func(s *Service, ctx context.Context, in In) (Out, error)) operation {
	return operation{name: op.Name, run: func(ctx context.Context, s *Service, req adminapi.Request) (any, error) {
		var in In
		if req.Body != nil {
			dec := json.NewDecoder(io.LimitReader(req.Body, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
				return nil, adminapi.Invalid("", "malformed request: %v", err)
			}
		}
		return f(s, ctx, in)
	}}
}

// uploadOp adapts a method taking a file (the body) and options (the query).
func uploadOp[In, Out any](op adminapi.Op[In, Out], parse func(url.Values) In, f func(s *Service, ctx context.Context, in In, file io.Reader) (Out, error)) operation {
	return operation{name: op.Name, run: func(ctx context.Context, s *Service, req adminapi.Request) (any, error) {
		if req.Body == nil {
			return nil, adminapi.Invalid("file", "%s needs a file", op.Name)
		}
		return f(s, ctx, parse(req.Query), req.Body)
	}}
}

// Operations returns the names of every operation, in the table's order.
func Operations() []string {
	out := make([]string, len(table))
	for i, op := range table {
		out[i] = op.name
	}
	return out
}
