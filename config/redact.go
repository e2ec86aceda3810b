package config

import (
	"log/slog"
	"reflect"
	"strconv"
)

// redactedValue replaces a secret that is set. Secrets that are empty stay
// empty, so a dump still shows which ones are configured.
const redactedValue = "REDACTED"

// Redacted returns a deep copy of c with every secret (fields tagged
// secret:"true": the master secret, client secrets, SMTP passwords, SMS
// tokens) replaced by "REDACTED". The copy shares nothing with c.
func (c Config) Redacted() Config {
	redact(reflect.ValueOf(&c).Elem())
	return c
}

// LogValue logs the configuration with snake_case keys and secrets redacted,
// so that slog.Any("config", cfg) is safe.
func (c Config) LogValue() slog.Value { return sectionLogValue(&c) }

// LogValue redacts the client secret.
func (cl ClientConfig) LogValue() slog.Value { return sectionLogValue(&cl) }

// LogValue redacts the password.
func (s SMTPConfig) LogValue() slog.Value { return sectionLogValue(&s) }

// LogValue redacts the token.
func (w WebhookConfig) LogValue() slog.Value { return sectionLogValue(&w) }

// LogValue redacts the auth token.
func (t TwilioConfig) LogValue() slog.Value { return sectionLogValue(&t) }

// sectionLogValue takes a pointer to a private copy, which it redacts.
func sectionLogValue(p any) slog.Value {
	v := reflect.ValueOf(p).Elem()
	redact(v)
	return logValue(v)
}

// redact replaces secrets in v, which must be settable, and gives v its own
// copies of slices, maps and pointed-to sections.
func redact(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		cp := reflect.New(v.Type().Elem())
		cp.Elem().Set(v.Elem())
		v.Set(cp)
		redact(cp.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
		v.Set(cp)
		for i := range cp.Len() {
			redact(cp.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		cp := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			cp.SetMapIndex(it.Key(), it.Value())
		}
		v.Set(cp)
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			fv := v.Field(f.index)
			if f.secret && fv.Kind() == reflect.String {
				if fv.String() != "" {
					fv.SetString(redactedValue)
				}
				continue
			}
			redact(fv)
		}
	}
}

func logValue(v reflect.Value) slog.Value {
	switch v.Kind() {
	case reflect.Struct:
		fs := fieldsOf(v.Type())
		attrs := make([]slog.Attr, 0, len(fs))
		for _, f := range fs {
			attrs = append(attrs, slog.Attr{Key: f.key, Value: logValue(v.Field(f.index))})
		}
		return slog.GroupValue(attrs...)
	case reflect.Pointer:
		if v.IsNil() {
			return slog.AnyValue(nil)
		}
		return logValue(v.Elem())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			attrs := make([]slog.Attr, v.Len())
			for i := range v.Len() {
				attrs[i] = slog.Attr{Key: strconv.Itoa(i), Value: logValue(v.Index(i))}
			}
			return slog.GroupValue(attrs...)
		}
	}
	return slog.AnyValue(v.Interface())
}
