package postgres

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Records are stored whole as JSON in each table's data column, as
// json.Marshal writes them with every time in UTC: JSON keeps nanoseconds,
// nil apart from empty slices and maps, and nil pointers, so a record
// reads back exactly as it was stored. json.Unmarshal copies every string
// and byte slice out of what pgx read.

func encode[T any](v T) ([]byte, error) {
	utcTimes(&v)
	return json.Marshal(v)
}

func decode[T any](data []byte, v *T) error {
	return json.Unmarshal(data, v)
}

var timeType = reflect.TypeFor[time.Time]()

// utcTimes converts the top-level time fields of the struct *v to UTC.
// Records are flat, and reflection keeps this right when fields are added.
func utcTimes(v any) {
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Type() == timeType && f.CanSet() {
			t := f.Addr().Interface().(*time.Time)
			*t = t.UTC()
		}
	}
}

// ns is the part of t below the microsecond, which a timestamptz column
// drops (pgx sends t rounded down to the microsecond). The pair
// (timestamptz, ns) compares and orders exactly as t does.
func ns(t time.Time) int16 { return int16(t.Nanosecond() % 1000) }

// null is s, or NULL for an empty s: an empty field is not indexed, as in
// bolt, so empty values never collide in a unique column.
func null(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// storable reports whether s can be a text value: PostgreSQL text is
// valid UTF-8 without NUL. A lookup by any other string (a request's
// client_id, say) finds nothing rather than failing with an encoding
// error.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// storableKeys reports whether every string among keys is storable.
func storableKeys(keys []any) bool {
	for _, k := range keys {
		if s, ok := k.(string); ok && !storable(s) {
			return false
		}
	}
	return true
}
