package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"reflect"
	"strings"

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
	jsonOp(adminapi.MemberUpdate, (*Service).updateMember),
	jsonOp(adminapi.MemberDelete, (*Service).eraseMember),
	jsonOp(adminapi.MemberFind, (*Service).findMembers),
	jsonOp(adminapi.MemberDisable, (*Service).disableMember),
	jsonOp(adminapi.MemberEnable, (*Service).enableMember),
	jsonOp(adminapi.MemberPassword, (*Service).setMemberPassword),
	uploadOp(adminapi.MemberImport, adminapi.ImportInputFrom, (*Service).importFile),

	jsonOp(adminapi.MemberUnlock, (*Service).unlockMember),
	jsonOp(adminapi.MemberPasskeysRemove, (*Service).removePasskeys),
	jsonOp(adminapi.MemberOTPReset, (*Service).resetOTPDestinations),
	jsonOp(adminapi.MemberSessions, (*Service).listSessions),
	jsonOp(adminapi.MemberSessionsEnd, (*Service).endSessions),
	jsonOp(adminapi.MemberDevices, (*Service).listDevices),
	jsonOp(adminapi.MemberDeviceRemove, (*Service).removeDevice),
	jsonOp(adminapi.MemberApps, (*Service).listApps),
	jsonOp(adminapi.MemberAppUnlink, (*Service).unlinkApp),
	jsonOp(adminapi.MemberSupportStart, (*Service).startSupport),
	jsonOp(adminapi.MemberSupportShow, (*Service).showSupport),
	jsonOp(adminapi.MemberSupportVerify, (*Service).verifySupport),

	jsonOp(adminapi.EventsList, (*Service).listEvents),

	jsonOp(adminapi.JobShow, (*Service).showJob),
	jsonOp(adminapi.JobList, (*Service).listJobs),

	jsonOp(adminapi.WebhookAdd, (*Service).addWebhook),
	jsonOp(adminapi.WebhookList, (*Service).listWebhooks),
	jsonOp(adminapi.WebhookRemove, (*Service).removeWebhook),

	jsonOp(adminapi.SSFStreamCreate, (*Service).createStream),
	jsonOp(adminapi.SSFStreamList, (*Service).listStreams),
	jsonOp(adminapi.SSFStreamShow, (*Service).showStream),
	jsonOp(adminapi.SSFStreamDelete, (*Service).deleteStream),

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
				return nil, decodeError(err)
			}
		}
		return f(s, ctx, in)
	}}
}

// uploadOp adapts a method taking a file (the request's body, with its
// content type) and options (the query).
func uploadOp[In, Out any](op adminapi.Op[In, Out], parse func(url.Values) In, f func(s *Service, ctx context.Context, in In, file adminapi.Request) (Out, error)) operation {
	return operation{name: op.Name, run: func(ctx context.Context, s *Service, req adminapi.Request) (any, error) {
		if req.Body == nil {
			return nil, adminapi.Invalid("file", "%s needs a file", op.Name)
		}
		return f(s, ctx, parse(req.Query), req)
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

// decodeError words a request that does not decode for the operator,
// naming the field at fault without Go's type names.
func decodeError(err error) *adminapi.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "of another type"
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Int, reflect.Int64, reflect.Uint32:
			want = "a whole number"
		case reflect.Bool:
			want = "true or false"
		case reflect.Slice:
			want = "a list"
		case reflect.Struct, reflect.Map:
			want = "an object"
		}
		return adminapi.Invalid(te.Field, "%s must be %s, not a %s", te.Field, want, te.Value)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return adminapi.Invalid(strings.Trim(f, `"`), "unknown field %s", f)
	}
	return adminapi.Invalid("", "the request is not the JSON object this operation takes")
}
