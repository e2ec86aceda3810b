package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// validate checks a decoded JSON value against a JSON Schema of the
// subset the admin API's OpenAPI document uses ($ref into its components,
// type, properties, required, additionalProperties, items, anyOf,
// minimum, format date-time), and returns every mismatch with its path.
// It is the test's own, written from JSON Schema 2020-12, so that the
// document is checked by something other than the code that wrote it.
func validate(doc map[string]any, schema map[string]any, v any, path string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		def, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		if !ok {
			return []string{path + ": unresolved " + ref}
		}
		return validate(doc, def, v, path)
	}
	if alts, ok := schema["anyOf"].([]any); ok {
		for _, s := range alts {
			if len(validate(doc, s.(map[string]any), v, path)) == 0 {
				return nil
			}
		}
		return []string{path + ": matches no schema of anyOf"}
	}
	if typ, ok := schema["type"]; ok && !typeMatches(typ, v) {
		return []string{fmt.Sprintf("%s: %T is not of type %v", path, v, typ)}
	}
	var errs []string
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := x[r]; !ok {
				errs = append(errs, path+": lacks required "+r)
			}
		}
		for k, val := range x {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(doc, ps, val, path+"."+k)...)
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, path+": has no property "+k)
				}
			case map[string]any:
				errs = append(errs, validate(doc, ap, val, path+"."+k)...)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, it := range x {
				errs = append(errs, validate(doc, items, it, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case string:
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				errs = append(errs, path+": not a date-time: "+x)
			}
		}
	case json.Number:
		if min, ok := schema["minimum"].(json.Number); ok {
			n, _ := x.Float64()
			m, _ := min.Float64()
			if n < m {
				errs = append(errs, path+": below the minimum")
			}
		}
	}
	return errs
}

func typeMatches(typ any, v any) bool {
	switch t := typ.(type) {
	case string:
		return typeIs(t, v)
	case []any:
		return slices.ContainsFunc(t, func(x any) bool { s, _ := x.(string); return typeIs(s, v) })
	}
	return false
}

func typeIs(t string, v any) bool {
	switch v := v.(type) {
	case nil:
		return t == "null"
	case bool:
		return t == "boolean"
	case string:
		return t == "string"
	case json.Number:
		_, err := v.Int64()
		return t == "number" || t == "integer" && err == nil
	case []any:
		return t == "array"
	case map[string]any:
		return t == "object"
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}
