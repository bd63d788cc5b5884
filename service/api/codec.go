package api

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"
)

// Dict is a D-Bus a{sv} dictionary.
type Dict = map[string]dbus.Variant

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
)

// Encode turns a struct of this package into an a{sv} dictionary keyed by
// the fields' json names. Times are microseconds since the epoch (t),
// durations microseconds (t), as systemd's own API writes them; a field
// whose json tag says omitempty or omitzero is left out when zero.
func Encode(v any) Dict {
	return encodeStruct(reflect.Indirect(reflect.ValueOf(v)))
}

func encodeStruct(rv reflect.Value) Dict {
	out := Dict{}
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name, omit := jsonName(rt.Field(i))
		if name == "" {
			continue
		}
		f := rv.Field(i)
		if omit && f.IsZero() {
			continue
		}
		if val, ok := encodeValue(f); ok {
			out[name] = dbus.MakeVariant(val)
		}
	}
	return out
}

func encodeValue(f reflect.Value) (any, bool) {
	switch {
	case f.Type() == timeType:
		t := f.Interface().(time.Time)
		if t.IsZero() {
			return uint64(0), true
		}
		return uint64(t.UnixMicro()), true
	case f.Type() == durationType:
		return uint64(f.Interface().(time.Duration).Microseconds()), true
	}
	switch f.Kind() {
	case reflect.Pointer:
		if f.IsNil() {
			return nil, false
		}
		return encodeValue(f.Elem())
	case reflect.String:
		return dbusString(f.String()), true
	case reflect.Bool:
		return f.Bool(), true
	case reflect.Int, reflect.Int64:
		return f.Int(), true
	case reflect.Float64:
		return f.Float(), true
	case reflect.Slice:
		switch f.Type().Elem().Kind() {
		case reflect.String:
			out := make([]string, f.Len())
			for i := range out {
				out[i] = dbusString(f.Index(i).String())
			}
			return out, true
		case reflect.Struct:
			out := make([]Dict, f.Len())
			for i := range out {
				out[i] = encodeStruct(f.Index(i))
			}
			return out, true
		}
	}
	panic(fmt.Sprintf("api: cannot encode %s", f.Type()))
}

// Decode fills the struct v points to from an a{sv} dictionary made by
// Encode. Unknown keys are ignored, so a newer daemon can add fields.
func Decode(d Dict, v any) error {
	return decodeStruct(d, reflect.ValueOf(v).Elem())
}

func decodeStruct(d Dict, rv reflect.Value) error {
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name, _ := jsonName(rt.Field(i))
		variant, ok := d[name]
		if name == "" || !ok {
			continue
		}
		if err := decodeValue(variant.Value(), rv.Field(i)); err != nil {
			return fmt.Errorf("field %s: %w", name, err)
		}
	}
	return nil
}

func decodeValue(val any, f reflect.Value) error {
	mismatch := fmt.Errorf("got %T, want %s", val, f.Type())
	switch {
	case f.Type() == timeType:
		us, ok := val.(uint64)
		if !ok {
			return mismatch
		}
		if us != 0 {
			f.Set(reflect.ValueOf(time.UnixMicro(int64(us))))
		}
		return nil
	case f.Type() == durationType:
		us, ok := val.(uint64)
		if !ok {
			return mismatch
		}
		f.SetInt(int64(time.Duration(us) * time.Microsecond))
		return nil
	}
	switch f.Kind() {
	case reflect.Pointer:
		p := reflect.New(f.Type().Elem())
		if err := decodeValue(val, p.Elem()); err != nil {
			return err
		}
		f.Set(p)
		return nil
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Struct {
			ds, ok := val.([]map[string]dbus.Variant)
			if !ok {
				return mismatch
			}
			s := reflect.MakeSlice(f.Type(), len(ds), len(ds))
			for i, d := range ds {
				if err := decodeStruct(d, s.Index(i)); err != nil {
					return err
				}
			}
			f.Set(s)
			return nil
		}
	case reflect.Int, reflect.Int64:
		n, ok := val.(int64)
		if !ok {
			return mismatch
		}
		f.SetInt(n)
		return nil
	}
	v := reflect.ValueOf(val)
	if !v.Type().AssignableTo(f.Type()) {
		return mismatch
	}
	f.Set(v)
	return nil
}

func jsonName(sf reflect.StructField) (name string, omit bool) {
	tag := sf.Tag.Get("json")
	if tag == "" || tag == "-" {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	return name, strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
}

// dbusString makes s a valid D-Bus string: UTF-8 without NUL. Text an
// agent wrote (a result, an error) may hold either, and one such string
// would otherwise break the whole reply, for everyone asking.
func dbusString(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
