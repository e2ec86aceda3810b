package adminhttp

import (
	"reflect"
	"slices"
	"strings"
	"time"
)

// JSON Schemas (draft 2020-12, OpenAPI 3.1's dialect) of the admin API's
// Go types, reflected as encoding/json writes and reads them: a field's
// JSON name, omitempty and omitzero fields optional, the others required,
// embedded structs' fields inlined, pointers nullable.

// schemas collects the named struct types' schemas for components.
type schemas struct {
	defs map[string]any
}

var timeType = reflect.TypeFor[time.Time]()

// of returns the schema of t: a $ref for a named struct (defined once in
// defs), inline otherwise.
func (g *schemas) of(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		s := g.of(t.Elem())
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
			return s
		}
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case t.Kind() == reflect.Struct && t.Name() != "":
		name := t.Name()
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = nil // placeholder: recursive types stop here
			g.defs[name] = g.object(t, nil)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	case t.Kind() == reflect.Struct:
		return g.object(t, nil)
	}
	return scalar(t)
}

// scalar is the schema of a basic kind.
func scalar(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

// object is the schema of struct t without the fields named in skip.
func (g *schemas) object(t reflect.Type, skip []string) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, skip, props, &required)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		s["required"] = required
	}
	return s
}

func (g *schemas) fields(t reflect.Type, skip []string, props map[string]any, required *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			g.fields(f.Type, skip, props, required)
			continue
		case name == "":
			name = f.Name
		}
		if slices.Contains(skip, name) {
			continue
		}
		props[name] = g.of(f.Type)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") && !slices.Contains(strings.Split(opts, ","), "omitzero") {
			*required = append(*required, name)
		}
	}
}
