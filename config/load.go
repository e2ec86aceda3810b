package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load builds the configuration in layers: Default, then the YAML file at
// path (skipped when path is ""), then TSUBASA_* variables from environ (in
// the form of os.Environ), then *_file secrets. Client defaults are applied
// (ClientConfig.WithDefaults). Load does not validate: call Validate.
//
// Loading is strict: an unknown key, a duplicate key, a value of the wrong
// type, an unknown TSUBASA_* variable or an unreadable secret file is an
// error. Every such problem is reported at once, one per line, each naming
// the file and line or the variable. A missing config file gives an error
// matching fs.ErrNotExist.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	// storage.bolt.path gets its default below, once it is known whether
	// PostgreSQL was chosen: only an operator's bolt.path is "both set".
	c.Storage.Bolt.Path = ""
	root := reflect.ValueOf(&c).Elem()
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		where := func(line int) string { return path + ":" + strconv.Itoa(line) }
		errs = append(errs, decodeYAML(data, where, root, "")...)
	}
	errs = append(errs, applyEnv(&c, environ)...)
	for i := range c.Clients {
		c.Clients[i] = c.Clients[i].WithDefaults(c.Keys.Algorithm)
	}
	resolveFiles(root, "", &errs)
	if c.Storage.Bolt.Path == "" && c.Storage.Postgres.URL == "" {
		c.Storage.Bolt.Path = defaultDBPath
	}
	if len(errs) > maxReported {
		more := len(errs) - maxReported
		errs = append(errs[:maxReported], fmt.Errorf("… and %d more problems", more))
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// maxReported caps the problems listed: past that, more lines do not help
// a person, and a garbage file could produce millions.
const maxReported = 100

// baseBudget plus one node per input byte bounds the work of one decode.
// Every node takes at least one byte, so only alias expansion can exceed
// it, and a small file cannot expand into an enormous walk.
const baseBudget = 100_000

// decodeYAML decodes data into out (a struct or a slice of structs),
// starting from the values already in out.
func decodeYAML(data []byte, where func(line int) string, out reflect.Value, path string) []error {
	n, err := parseYAML(data)
	if err != nil {
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
			if num, text, ok := strings.Cut(rest, ": "); ok {
				if line, err := strconv.Atoi(num); err == nil {
					return []error{errors.New(where(line) + ": " + text)}
				}
			}
		}
		return []error{errors.New(where(0) + ": " + msg)}
	}
	if n == nil {
		return nil // empty document: defaults stand
	}
	d := &decoder{where: where, budget: baseBudget + len(data)}
	d.value(n, out, path)
	return d.errs
}

// parseYAML returns the root node of the single document in data, or nil for
// an empty document.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// The parser is third-party code fed by operators and the
		// environment; a bug in it must surface as an error, not a crash.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: only one YAML document is allowed", extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

type decoder struct {
	where  func(line int) string
	errs   []error
	budget int
}

func (d *decoder) fail(n *yaml.Node, path, msg string) {
	if path != "" {
		msg = path + ": " + msg
	}
	d.errs = append(d.errs, errors.New(d.where(n.Line)+": "+msg))
}

// spend counts one node against the budget and reports whether to go on.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	d.budget--
	if d.budget == 0 {
		d.fail(n, path, "document too large once aliases are expanded")
	}
	return d.budget > 0
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

const noValue = `no value: write "" for an empty string or [] for an empty list ` +
	`(an unquoted # after a space starts a comment, so quote colours such as "#0b3d91")`

// value decodes n into v. The walk is directed by v's type, which is finite
// and not recursive, so alias cycles in the document cannot loop forever.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	n = deref(n)
	if !d.spend(n, path) {
		return
	}
	t := v.Type()
	null := isNull(n)
	switch {
	case t.Kind() == reflect.Struct:
		if !null { // a section whose keys are all commented out keeps its defaults
			d.section(n, v, path)
		}
	case t.Kind() == reflect.Pointer:
		if null {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(newSection(t.Elem()))
		}
		d.value(n, v.Elem(), path)
	case null:
		d.fail(n, path, noValue)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		d.sectionList(n, v, path)
	case t.Kind() == reflect.Slice:
		d.scalarList(n, v, path)
	case t.Kind() == reflect.Map:
		d.scalarMap(n, v, path)
	case n.Kind != yaml.ScalarNode:
		d.fail(n, path, "want "+want(t))
	default:
		if err := setScalar(v, n.Value); err != nil {
			d.fail(n, path, err.Error())
		}
	}
}

func (d *decoder) section(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of keys to values")
		return
	}
	t := v.Type()
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be plain strings")
			continue
		}
		kp := joinPath(path, k.Value)
		if k.ShortTag() == "!!merge" {
			d.fail(k, path, "merge keys (<<) are not supported; use an alias per value")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, kp, fmt.Sprintf("duplicate key (first set on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fieldByKey(t, k.Value)
		if !ok {
			d.fail(k, kp, unknownKey(k.Value, keysOf(t)))
			continue
		}
		d.value(val, v.Field(f.index), kp)
	}
}

func unknownKey(key string, known []string) string {
	if s := suggest(key, known); s != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", s)
	}
	return "unknown key; expected one of: " + strings.Join(known, ", ")
}

// sectionList decodes a list of sections (clients). It replaces the list.
func (d *decoder) sectionList(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list")
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := path + "[" + strconv.Itoa(i) + "]"
		if isNull(deref(item)) {
			d.fail(deref(item), ip, "empty list item")
			continue
		}
		d.value(item, out.Index(i), ip)
	}
	v.Set(out)
}

// scalarList decodes a list of scalars. It replaces the list.
func (d *decoder) scalarList(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list (write [a, b] or one \"- a\" line per item)")
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		item = deref(item)
		ip := path + "[" + strconv.Itoa(i) + "]"
		if !d.spend(item, ip) {
			return
		}
		if item.Kind != yaml.ScalarNode || isNull(item) {
			d.fail(item, ip, "want "+want(v.Type().Elem()))
			continue
		}
		if err := setScalar(out.Index(i), item.Value); err != nil {
			d.fail(item, ip, err.Error())
		}
	}
	v.Set(out)
}

// scalarMap decodes a mapping of scalars, merging it over the existing map
// so that giving one entry keeps the defaults of the others.
func (d *decoder) scalarMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of keys to values")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), deref(n.Content[i+1])
		if !d.spend(val, path) {
			return
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.fail(k, path, "keys must be plain strings")
			continue
		}
		kp := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.fail(k, kp, fmt.Sprintf("duplicate key (first set on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		if val.Kind != yaml.ScalarNode || isNull(val) {
			d.fail(val, kp, "want "+want(v.Type().Elem()))
			continue
		}
		key := reflect.New(v.Type().Key()).Elem()
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := setScalar(key, k.Value); err != nil {
			d.fail(k, kp, err.Error())
			continue
		}
		if err := setScalar(elem, val.Value); err != nil {
			d.fail(val, kp, err.Error())
			continue
		}
		v.SetMapIndex(key, elem)
	}
}
