package adminapi

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// The HTTP admin API (/admin/v1/…, served by tsubasa/provider/admin/adminhttp
// and called by the CLI's --server mode) is this table: each route is an
// operation with its method, path, scope and HTTP semantics. The server's
// mux, its scope checks, the OpenAPI document and the scope tests are all
// built from it, so none can forget a route.
//
// A route's request is its operation's In, bound from the request: path
// parameters ({number}) and, for GET and DELETE, query parameters to the
// fields of In with the same JSON names; the JSON body to the others; the
// If-Match header to if_match. An upload's body is the file and In its
// query.

// The admin scopes. Config lists the same (config.AdminScopes), and a
// client must be allowed a scope to get a token carrying it.
const (
	ScopeMembersRead    = "admin:members:read"    // read members, their sessions, devices and apps
	ScopeMembersWrite   = "admin:members:write"   // create, update, disable and enable, import
	ScopeMembersSupport = "admin:members:support" // unlock, passwords, second factors, end sessions
	ScopeClients        = "admin:clients"         // relying parties
	ScopeKeys           = "admin:keys"            // signing keys
	ScopeEventsRead     = "admin:events:read"     // members' audit events
	ScopeWebhooks       = "admin:webhooks"        // webhook subscriptions
)

// Scopes lists every admin scope.
var Scopes = []string{ScopeMembersRead, ScopeMembersWrite, ScopeMembersSupport, ScopeClients, ScopeKeys, ScopeEventsRead,
	ScopeWebhooks}

// Prefix is where the admin API is served.
const Prefix = "/admin/v1"

// Route is an operation as the HTTP admin API serves it.
type Route struct {
	Method  string
	Path    string // a net/http pattern's path, e.g. /admin/v1/members/{number}
	Op      string // the operation (Op.Name)
	Scope   string // the one scope the route requires
	Summary string
	// Status is the answer's status on success: 200, or 201 for a create.
	Status int
	// Idempotent: a create that takes an Idempotency-Key header.
	Idempotent bool
	// IfMatch: the request must carry If-Match with the resource's ETag
	// (428 without, 412 when it is not the current one).
	IfMatch bool
	// Upload lists the media types of a streamed body (the file); In then
	// travels in the query.
	Upload []string
	// Job: the route answers with the JobView of the job that ran the
	// operation rather than its own result (which is the job's Result).
	Job bool
	// In and Out are the request's and the answer's Go types, for the
	// OpenAPI document.
	In, Out reflect.Type
}

// Params are the names of the path's parameters, in order.
func (r Route) Params() []string {
	var out []string
	for _, seg := range strings.Split(r.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

// BodyLess reports whether the request has no JSON body: GET and DELETE
// take their fields from the query.
func (r Route) BodyLess() bool { return r.Method == http.MethodGet || r.Method == http.MethodDelete }

type routeOption func(*Route)

var (
	created    routeOption = func(r *Route) { r.Status, r.Idempotent = http.StatusCreated, true }
	ifMatch    routeOption = func(r *Route) { r.IfMatch = true }
	importFile routeOption = func(r *Route) {
		r.Upload, r.Job = []string{MediaCSV, MediaJSONLines, MediaNDJSON}, true
		r.Out = reflect.TypeFor[JobView]()
	}
)

// Media types of a member import.
const (
	MediaCSV       = "text/csv"
	MediaJSONLines = "application/jsonl"
	MediaNDJSON    = "application/x-ndjson"
)

func route[In, Out any](method, path string, op Op[In, Out], scope, summary string, opts ...routeOption) Route {
	r := Route{Method: method, Path: Prefix + path, Op: op.Name, Scope: scope, Summary: summary, Status: http.StatusOK,
		In: reflect.TypeFor[In](), Out: reflect.TypeFor[Out]()}
	for _, o := range opts {
		o(&r)
	}
	return r
}

const (
	get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
)

// Routes is the HTTP admin API.
var Routes = []Route{
	route(post, "/members", MemberCreate, ScopeMembersWrite, "Create a member", created),
	route(post, "/members:import", MemberImport, ScopeMembersWrite,
		"Import members from a CSV or JSON lines stream, as a job", importFile),
	route(get, "/members", MemberFind, ScopeMembersRead, "Find members by email address or mobile number"),
	route(get, "/members/{number}", MemberShow, ScopeMembersRead, "Read a member by number or id"),
	route(patch, "/members/{number}", MemberUpdate, ScopeMembersWrite, "Change a member's profile and contacts", ifMatch),
	route(del, "/members/{number}", MemberDelete, ScopeMembersWrite,
		"Erase a member and everything stored about them, keeping an audit tombstone", ifMatch),
	route(post, "/members/{number}/disable", MemberDisable, ScopeMembersWrite,
		"Disable a member: every session ends, every token is revoked"),
	route(post, "/members/{number}/enable", MemberEnable, ScopeMembersWrite, "Enable a member again, clearing lockouts"),
	route(post, "/members/{number}/unlock", MemberUnlock, ScopeMembersSupport, "Clear a member's login lockouts"),
	route(post, "/members/{number}/password", MemberPassword, ScopeMembersSupport,
		"Set a member's password, temporary (to be changed at the next login) or not; every session ends"),
	route(post, "/members/{number}/passkeys:remove", MemberPasskeysRemove, ScopeMembersSupport,
		"Remove one or every passkey of a member; every session ends"),
	route(post, "/members/{number}/otp-destinations:reset", MemberOTPReset, ScopeMembersSupport,
		"Remove a member's email address or mobile number as a one-time password destination; every session ends"),
	route(get, "/members/{number}/sessions", MemberSessions, ScopeMembersRead, "List a member's sessions"),
	route(post, "/members/{number}/sessions:end", MemberSessionsEnd, ScopeMembersSupport,
		"End one session of a member, or all of them, revoking their tokens"),
	route(get, "/members/{number}/devices", MemberDevices, ScopeMembersRead, "List the devices a member logged in from"),
	route(del, "/members/{number}/devices/{device}", MemberDeviceRemove, ScopeMembersSupport,
		"Sign a device out and forget it"),
	route(get, "/members/{number}/apps", MemberApps, ScopeMembersRead, "List the third-party apps linked to a member"),
	route(del, "/members/{number}/apps/{client}", MemberAppUnlink, ScopeMembersSupport,
		"Unlink a third-party app, revoking its tokens"),
	route(post, "/members/{number}/support-sessions", MemberSupportStart, ScopeMembersSupport,
		"Start a support session: a one-time code goes to the member's verified channel, for the member to read back", created),
	route(get, "/members/{number}/support-sessions/{id}", MemberSupportShow, ScopeMembersSupport,
		"Read a support session's state (never its code)"),
	route(post, "/members/{number}/support-sessions/{id}/verify", MemberSupportVerify, ScopeMembersSupport,
		"Enter the code the member read back; a verified session allows the sensitive support changes for a while"),
	route(get, "/members/{number}/events", EventsList, ScopeEventsRead, "Read a member's audit events, newest first, a page at a time"),

	route(get, "/jobs", JobList, ScopeMembersWrite, "List the newest jobs"),
	route(get, "/jobs/{id}", JobShow, ScopeMembersWrite, "Read a job's progress and, once done, its result"),

	route(get, "/clients", ClientList, ScopeClients, "List relying parties"),
	route(post, "/clients", ClientAdd, ScopeClients, "Add a relying party (its secret is shown once)", created),
	route(get, "/clients/{id}", ClientShow, ScopeClients, "Read a relying party"),
	route(del, "/clients/{id}", ClientRemove, ScopeClients, "Remove a relying party, revoking its tokens"),
	route(post, "/clients/{id}/secret:rotate", ClientRotateSecret, ScopeClients, "Replace a client's secret (shown once)"),

	route(get, "/webhooks", WebhookList, ScopeWebhooks, "List webhook subscriptions"),
	route(post, "/webhooks", WebhookAdd, ScopeWebhooks,
		"Subscribe a receiver to member events (its signing secret is shown once)", created),
	route(del, "/webhooks/{id}", WebhookRemove, ScopeWebhooks, "Remove a webhook subscription"),
	route(get, "/ssf/streams", SSFStreamList, ScopeWebhooks, "List the OpenID Shared Signals streams"),
	route(post, "/ssf/streams", SSFStreamCreate, ScopeWebhooks,
		"Create a Shared Signals stream for a partner client: Security Event Tokens pushed to its receiver (RFC 8935)", created),
	route(get, "/ssf/streams/{id}", SSFStreamShow, ScopeWebhooks, "Read a Shared Signals stream's configuration"),
	route(del, "/ssf/streams/{id}", SSFStreamDelete, ScopeWebhooks, "Delete a Shared Signals stream: nothing more is sent"),

	route(get, "/keys", KeysList, ScopeKeys, "List signing keys"),
	route(post, "/keys:rotate", KeysRotate, ScopeKeys, "Rotate the signing keys"),
}

// RouteOf returns the route of operation op.
func RouteOf(op string) (Route, bool) {
	i := slices.IndexFunc(Routes, func(r Route) bool { return r.Op == op })
	if i < 0 {
		return Route{}, false
	}
	return Routes[i], true
}
