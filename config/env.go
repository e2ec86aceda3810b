package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

const (
	envPrefix  = "TSUBASA_"
	clientsEnv = "TSUBASA_CLIENTS"
)

// nonConfigEnv are TSUBASA_* variables that are not configuration keys and
// so must not trip the unknown-variable check.
var nonConfigEnv = map[string]bool{
	"TSUBASA_CONFIG":          true, // path of the config file, read by cmd
	"TSUBASA_REQUIRE_BROWSER": true, // browser tests fail instead of skipping
	// PostgreSQL tests fail instead of skipping (set by .ci/run, so every
	// process the tests start sees it).
	"TSUBASA_REQUIRE_POSTGRES": true,
	// The CLI's --server mode (the HTTP admin API): flags' defaults.
	"TSUBASA_SERVER": true, "TSUBASA_CLIENT_ID": true, "TSUBASA_CLIENT_SECRET_FILE": true,
	"TSUBASA_CLIENT_KEY": true, "TSUBASA_AGENT": true,
}

// envVar is one overridable key. Names are TSUBASA_ followed by the key's
// path upper-cased and joined by "_". A map key is a prefix: the rest of the
// variable name, lower-cased, is the map entry.
type envVar struct {
	name  string
	key   string // yaml path
	index []int  // field indexes from Config
	isMap bool
	// isList: a list of sections, set whole by one YAML or JSON document.
	isList bool
}

var envTable = sync.OnceValue(func() []envVar {
	var out []envVar
	collectEnv(reflect.TypeFor[Config](), nil, nil, &out)
	return out
})

func collectEnv(t reflect.Type, keys []string, index []int, out *[]envVar) {
	for _, f := range fieldsOf(t) {
		ft := t.Field(f.index).Type
		k := append(slices.Clip(keys), f.key)
		idx := append(slices.Clip(index), f.index)
		switch {
		case ft.Kind() == reflect.Struct:
			collectEnv(ft, k, idx, out)
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			collectEnv(ft.Elem(), k, idx, out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			// Lists of sections (clients) are set whole through one
			// variable holding a YAML or JSON document; clients by
			// clientsEnv, a nested one (passkeys.apps.android) here.
			if len(keys) > 0 {
				*out = append(*out, envVar{name: envPrefix + strings.ToUpper(strings.Join(k, "_")),
					key: strings.Join(k, "."), index: idx, isList: true})
			}
		default:
			name := envPrefix + strings.ToUpper(strings.Join(k, "_"))
			if ft.Kind() == reflect.Map {
				name += "_"
			}
			*out = append(*out, envVar{name: name, key: strings.Join(k, "."), index: idx, isMap: ft.Kind() == reflect.Map})
		}
	}
}

// EnvNames lists every configuration variable, sorted. A map key is listed
// as its prefix followed by "*" (e.g. TSUBASA_OTP_FORMATS_*, where * is the
// map key such as LOGIN); TSUBASA_CLIENTS takes a whole YAML or JSON list.
func EnvNames() []string {
	names := []string{clientsEnv}
	for _, e := range envTable() {
		if e.isMap {
			names = append(names, e.name+"*")
		} else {
			names = append(names, e.name)
		}
	}
	slices.Sort(names)
	return names
}

func lookupEnv(name string) (envVar, string, bool) {
	for _, e := range envTable() {
		if e.isMap {
			if rest, ok := strings.CutPrefix(name, e.name); ok {
				return e, rest, true
			}
		} else if e.name == name {
			return e, "", true
		}
	}
	return envVar{}, "", false
}

// applyEnv applies TSUBASA_* overrides in the order given, so a later
// duplicate wins. Variables not starting with TSUBASA_ are ignored.
func applyEnv(c *Config, environ []string) []error {
	var errs []error
	root := reflect.ValueOf(c).Elem()
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || nonConfigEnv[name] {
			continue
		}
		if name == clientsEnv {
			where := func(line int) string { return fmt.Sprintf("%s (line %d)", clientsEnv, line) }
			list := reflect.New(reflect.TypeFor[[]ClientConfig]()).Elem()
			if e := decodeYAML([]byte(val), where, list, "clients"); len(e) > 0 {
				errs = append(errs, e...)
				continue
			}
			c.Clients = list.Interface().([]ClientConfig)
			continue
		}
		ev, rest, found := lookupEnv(name)
		if !found {
			errs = append(errs, unknownEnv(name))
			continue
		}
		if err := setEnv(root, ev, rest, val); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", name, ev.key, err))
		}
	}
	return errs
}

func setEnv(root reflect.Value, ev envVar, mapKey, val string) error {
	v := root
	for _, i := range ev.index {
		v = v.Field(i)
		if v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			if v.IsNil() {
				v.Set(newSection(v.Type().Elem()))
			}
			v = v.Elem()
		}
	}
	switch {
	case ev.isList:
		where := func(line int) string { return fmt.Sprintf("%s (line %d)", ev.name, line) }
		list := reflect.New(v.Type()).Elem()
		if e := decodeYAML([]byte(val), where, list, ev.key); len(e) > 0 {
			return errors.Join(e...)
		}
		v.Set(list)
	case ev.isMap:
		if mapKey == "" {
			return fmt.Errorf("name the entry after the prefix, e.g. %sLOGIN", ev.name)
		}
		key := reflect.New(v.Type().Key()).Elem()
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := setScalar(key, strings.ToLower(mapKey)); err != nil {
			return err
		}
		if err := setScalar(elem, val); err != nil {
			return err
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		v.SetMapIndex(key, elem)
	case v.Kind() == reflect.Slice:
		// A comma-separated list; an empty value sets an empty list.
		out := reflect.MakeSlice(v.Type(), 0, 4)
		for part := range strings.SplitSeq(val, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := setScalar(e, part); err != nil {
				return err
			}
			out = reflect.Append(out, e)
		}
		v.Set(out)
	default:
		return setScalar(v, val)
	}
	return nil
}

func unknownEnv(name string) error {
	names := EnvNames()
	msg := name + ": no such setting (every TSUBASA_* variable must name a configuration key)"
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	}
	return fmt.Errorf("%s", msg)
}
