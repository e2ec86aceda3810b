package adminhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"tsubasa/provider/admin/adminapi"
)

// A route's request is its operation's In as JSON, bound from the HTTP
// request by the JSON names of In's fields: path parameters, then the
// query (GET, DELETE and uploads) or the JSON body (the other methods),
// and If-Match as if_match. Anything In has no field for is refused by
// name, rather than ignored.

// ifMatchField is the field If-Match travels in.
const ifMatchField = "if_match"

// binding is how one route's request becomes its operation's JSON.
type binding struct {
	rt     adminapi.Route
	fields map[string]reflect.Type // In's fields by JSON name
	params []string
}

// newBinding checks that every path parameter is a string field of In,
// and that a route read from the query has only plain fields.
func newBinding(rt adminapi.Route) (*binding, error) {
	b := &binding{rt: rt, fields: jsonFields(rt.In), params: rt.Params()}
	for _, p := range b.params {
		if t, ok := b.fields[p]; !ok || t.Kind() != reflect.String {
			return nil, fmt.Errorf("adminhttp: route %s %s: path parameter %s is no string field of %s", rt.Method, rt.Path, p, rt.In)
		}
	}
	if rt.BodyLess() || len(rt.Upload) > 0 {
		for name, t := range b.fields {
			if _, ok := queryKind(t); !ok {
				return nil, fmt.Errorf("adminhttp: route %s %s: field %s of %s cannot travel in a query", rt.Method, rt.Path, name, rt.In)
			}
		}
	}
	if _, ok := b.fields[ifMatchField]; ok != rt.IfMatch {
		return nil, fmt.Errorf("adminhttp: route %s %s: IfMatch and a field %s go together", rt.Method, rt.Path, ifMatchField)
	}
	return b, nil
}

// jsonFields maps the JSON names of t's fields (a struct) to their types,
// embedded structs' fields included, as encoding/json sees them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

// queryKind is how a query parameter of type t is read: "string", "integer"
// or "boolean".
func queryKind(t reflect.Type) (string, bool) {
	switch t.Kind() {
	case reflect.String:
		return "string", true
	case reflect.Int, reflect.Int64:
		return "integer", true
	case reflect.Bool:
		return "boolean", true
	}
	return "", false
}

// request returns the operation's JSON request from r (its JSON body
// already read into body), or the error to answer.
func (b *binding) request(r *http.Request, body []byte) ([]byte, *adminapi.Error) {
	in := map[string]json.RawMessage{}
	if !b.rt.BodyLess() && len(bytes.TrimSpace(body)) > 0 {
		if e := b.fromBody(r, body, in); e != nil {
			return nil, e
		}
	}
	if e := b.fromQuery(r, in); e != nil {
		return nil, e
	}
	for _, p := range b.params {
		v, _ := json.Marshal(r.PathValue(p))
		in[p] = v
	}
	if b.rt.IfMatch {
		v := r.Header.Values("If-Match")
		if len(v) == 0 || strings.TrimSpace(v[0]) == "" {
			return nil, &adminapi.Error{Problem: adminapi.ProblemPreconditionRequired, Field: "If-Match",
				Message: "this update needs If-Match with the ETag of the resource as you last read it, so that nobody's change is overwritten unseen"}
		}
		if len(v) > 1 || strings.Contains(v[0], ",") {
			return nil, invalid("If-Match", "If-Match must name one ETag")
		}
		in[ifMatchField], _ = json.Marshal(v[0])
	}
	out, _ := json.Marshal(in)
	return out, nil
}

// fromBody reads a JSON object's members into in.
func (b *binding) fromBody(r *http.Request, body []byte, in map[string]json.RawMessage) *adminapi.Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" && !(mt == "application/merge-patch+json" && b.rt.Method == http.MethodPatch) {
		return &adminapi.Error{Problem: adminapi.ProblemUnsupportedMedia, Field: "Content-Type",
			Message: fmt.Sprintf("the body must be application/json (got %q)", r.Header.Get("Content-Type"))}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return invalid("", "the body is not a JSON object: %v", jsonProblem(err))
	}
	if dec.More() {
		return invalid("", "the body holds more than one JSON value")
	}
	for k := range in {
		switch _, known := b.fields[k]; {
		case slices.Contains(b.params, k):
			return invalid(k, "%s is given by the path, not the body", k)
		case k == ifMatchField:
			return invalid(k, "if_match travels in the If-Match header")
		case !known:
			return invalid(k, "unknown field %q (the route's fields are in %s/openapi.json)", k, adminapi.Prefix)
		}
	}
	return nil
}

// fromQuery reads the query's parameters into in, for the routes that
// take their fields there; the others take none.
func (b *binding) fromQuery(r *http.Request, in map[string]json.RawMessage) *adminapi.Error {
	q := r.URL.Query()
	if !b.rt.BodyLess() && len(b.rt.Upload) == 0 {
		for k := range q {
			return invalid(k, "this route takes its fields in a JSON body, not the query (got %q)", k)
		}
		return nil
	}
	for k, vs := range q {
		t, known := b.fields[k]
		switch {
		case !known || slices.Contains(b.params, k) || k == ifMatchField:
			return invalid(k, "unknown query parameter %q", k)
		case len(vs) != 1:
			return invalid(k, "%s is given %d times", k, len(vs))
		}
		v, e := queryValue(k, vs[0], t)
		if e != nil {
			return e
		}
		in[k] = v
	}
	return nil
}

// queryValue is a query parameter's value as the JSON of type t.
func queryValue(name, raw string, t reflect.Type) (json.RawMessage, *adminapi.Error) {
	kind, _ := queryKind(t)
	switch kind {
	case "integer":
		n, err := strconv.Atoi(raw)
		if err != nil {
			return nil, invalid(name, "%s must be a whole number (got %q)", name, raw)
		}
		return json.RawMessage(strconv.Itoa(n)), nil
	case "boolean":
		bv, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, invalid(name, "%s must be true or false (got %q)", name, raw)
		}
		return json.RawMessage(strconv.FormatBool(bv)), nil
	}
	v, _ := json.Marshal(raw)
	return v, nil
}

// jsonProblem words a JSON syntax or type error without Go's type names.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("a %s where an object was expected", te.Value)
	}
	return "unexpected end of input"
}

func invalid(field, format string, args ...any) *adminapi.Error {
	return adminapi.Invalid(field, format, args...)
}
