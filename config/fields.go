package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The YAML decoder, the environment overrides, *_file resolution and
// redaction all walk the Config type by reflection over its yaml tags, so a
// new key is picked up everywhere at once and no table can drift.

var durationType = reflect.TypeFor[time.Duration]()

type field struct {
	key    string // yaml key
	index  int    // struct field index
	secret bool   // tagged secret:"true"
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists the yaml-tagged fields of a struct type in declaration order.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" || !sf.IsExported() {
			continue
		}
		fs = append(fs, field{key: key, index: i, secret: sf.Tag.Get("secret") == "true"})
	}
	fieldCache.Store(t, fs)
	return fs
}

func fieldByKey(t reflect.Type, key string) (field, bool) {
	for _, f := range fieldsOf(t) {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for _, f := range fieldsOf(t) {
		keys = append(keys, f.key)
	}
	return keys
}

// newSection returns a new *T holding the defaults a pointer section of
// type T gets when it first appears in YAML or the environment.
func newSection(t reflect.Type) reflect.Value {
	if t == reflect.TypeFor[SMTPConfig]() {
		return reflect.ValueOf(newDefaultSMTP())
	}
	return reflect.New(t)
}

// isLeaf reports whether values of t are written as one YAML scalar, list of
// scalars or map of scalars rather than as a section with keys.
func isLeaf(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		return false
	case reflect.Pointer:
		return t.Elem().Kind() != reflect.Struct
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Struct
	}
	return true
}

// want describes the expected form of a value of type t, for messages.
func want(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 90s, 15m or 12h"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("a whole number from %d to %d",
			int64(-1)<<(t.Bits()-1), int64(math.MaxInt64>>(64-t.Bits())))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(math.MaxUint64>>(64-t.Bits())))
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "a mapping of keys to values"
	}
	return t.String()
}

// setScalar parses s into v the same way for YAML and the environment.
// Numbers are decimal only: a leading zero must not turn into octal.
func setScalar(v reflect.Value, s string) error {
	bad := func() error { return fmt.Errorf("want %s, got %q", want(v.Type()), s) }
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return bad()
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad()
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return bad()
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return bad()
		}
		v.SetUint(n)
	default:
		return fmt.Errorf("want %s", want(v.Type()))
	}
	return nil
}

// suggest returns the candidate closest to name, or "" when none is close
// enough to be a plausible typo.
func suggest(name string, candidates []string) string {
	if len(name) > 64 {
		return "" // not a typo, and the distance is quadratic
	}
	best, bestD := "", max(2, len(name)/3)+1
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
