package storage

import (
	"reflect"
	"testing"
)

// Clone shares no memory with the original: every slice and pointer field
// of AuthRequest (found by reflection, so a field added later is checked
// too) is written through the clone and the original must not change.
func TestAuthRequestCloneSharesNothing(t *testing.T) {
	age := int64(60)
	orig := AuthRequest{ID: "r", MaxAge: &age}
	ov := reflect.ValueOf(&orig).Elem()
	for i := range ov.NumField() {
		if f := ov.Field(i); f.Kind() == reflect.Slice {
			f.Set(reflect.ValueOf([]string{"a", "b"}))
		}
	}
	c := orig.Clone()
	cv := reflect.ValueOf(&c).Elem()
	checked := 0
	for i := range cv.NumField() {
		name := cv.Type().Field(i).Name
		switch f := cv.Field(i); f.Kind() {
		case reflect.Slice:
			f.Index(0).SetString("changed")
			if got := ov.Field(i).Index(0).String(); got != "a" {
				t.Errorf("%s: the original changed through the clone: %q", name, got)
			}
			checked++
		case reflect.Pointer:
			f.Elem().SetInt(1)
			if *orig.MaxAge != 60 {
				t.Errorf("%s: the original changed through the clone", name)
			}
			checked++
		case reflect.Map:
			t.Errorf("%s: a map field: Clone must copy it and this test check it", name)
		}
	}
	if checked < 7 {
		t.Fatalf("checked %d slice and pointer fields, want at least 7", checked)
	}
	var empty AuthRequest
	if e := empty.Clone(); e.Scopes != nil || e.MaxAge != nil {
		t.Error("nil fields must stay nil")
	}
}
