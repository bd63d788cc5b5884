package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
)

// writeJSON writes v indented, with a final newline, as encoding/json
// would, except that a time.Duration whose JSON name ends in _usec is
// written in microseconds, as its name says (encoding/json would write
// nanoseconds). The API's types keep time.Duration, and its D-Bus codec
// already carries durations in microseconds, as systemd does; this makes
// --json agree with both.
//
// It walks structs (with encoding/json's rules for names, omitempty,
// omitzero and embedded structs), slices, arrays, maps with string keys,
// pointers and interfaces itself, and hands every other value to
// encoding/json.
func writeJSON(w io.Writer, v any) error {
	var raw bytes.Buffer
	e := jsonEncoder{b: &raw, fields: map[reflect.Type][]jsonField{}}
	if err := e.encode(reflect.ValueOf(v), false); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
)

// jsonEncoder writes JSON compactly, knowing each struct type's fields
// once.
type jsonEncoder struct {
	b      *bytes.Buffer
	fields map[reflect.Type][]jsonField
}

// encode writes v; usec says v is a field named *_usec.
func (e *jsonEncoder) encode(v reflect.Value, usec bool) error {
	b := e.b
	if !v.IsValid() {
		b.WriteString("null")
		return nil
	}
	t := v.Type()
	if usec && t == durationType {
		fmt.Fprint(b, time.Duration(v.Int()).Microseconds())
		return nil
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if t.Kind() == reflect.Pointer && t.Implements(marshalerType) {
			return e.marshal(v)
		}
		return e.encode(v.Elem(), usec)
	case reflect.Struct:
		if t.Implements(marshalerType) {
			return e.marshal(v)
		}
		return e.encodeStruct(v)
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return e.marshal(v) // base64, as encoding/json does
		}
		return e.encodeList(v)
	case reflect.Array:
		return e.encodeList(v)
	case reflect.Map:
		if t.Key() != reflect.TypeFor[string]() {
			return e.marshal(v)
		}
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := e.marshal(k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := e.encode(v.MapIndex(k), false); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	return e.marshal(v)
}

func (e *jsonEncoder) marshal(v reflect.Value) error {
	out, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	e.b.Write(out)
	return nil
}

func (e *jsonEncoder) encodeList(v reflect.Value) error {
	b := e.b
	b.WriteByte('[')
	for i := range v.Len() {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := e.encode(v.Index(i), false); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

func (e *jsonEncoder) encodeStruct(v reflect.Value) error {
	fields, ok := e.fields[v.Type()]
	if !ok {
		fields = jsonFields(v.Type())
		e.fields[v.Type()] = fields
	}
	b := e.b
	b.WriteByte('{')
	n := 0
	for _, f := range fields {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || (f.omitEmpty && isEmpty(fv)) || (f.omitZero && isZero(fv)) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.Write(f.key)
		if err := e.encode(fv, f.usec); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// jsonField is one field as encoding/json names it.
type jsonField struct {
	name                string
	key                 []byte // "name":
	usec                bool   // named *_usec
	index               []int
	tagged              bool
	omitEmpty, omitZero bool
}

// jsonFields lists t's fields as encoding/json would write them: fields
// of embedded structs promoted, a shallower field hiding a deeper one of
// the same name (a tagged one winning a tie, a tie left out), in the
// order of the struct.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, idx)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			f := jsonField{name: name, index: idx, tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for o := range strings.SplitSeq(opts, ",") {
				f.omitEmpty = f.omitEmpty || o == "omitempty"
				f.omitZero = f.omitZero || o == "omitzero"
			}
			all = append(all, f)
		}
	}
	walk(t, nil)
	var out []jsonField
	for _, f := range all {
		dominant, tie := true, false
		for _, g := range all {
			if g.name != f.name || slices.Equal(g.index, f.index) {
				continue
			}
			switch {
			case len(g.index) < len(f.index):
				dominant = false
			case len(g.index) == len(f.index) && g.tagged && !f.tagged:
				dominant = false
			case len(g.index) == len(f.index) && g.tagged == f.tagged:
				tie = true
			}
		}
		if dominant && !tie {
			key, _ := json.Marshal(f.name)
			f.key, f.usec = append(key, ':'), strings.HasSuffix(f.name, "_usec")
			out = append(out, f)
		}
	}
	return out
}

// fieldByIndex is v's field at index, false behind a nil embedded
// pointer (encoding/json leaves such fields out).
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZero is encoding/json's omitzero test: IsZero() when the type has
// it, the zero value otherwise.
func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}
