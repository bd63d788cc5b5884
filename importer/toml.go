package importer

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The TOML writer: config's types, written in their fields' order with
// every zero value left out, long strings as multi-line strings. The
// tests load what it writes with config.Load.

var bareKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// encodeTOML writes v, a struct of config's, as a TOML document.
func encodeTOML(v any) string {
	var b strings.Builder
	writeTable(&b, nil, reflect.ValueOf(v), false)
	return b.String()
}

type field struct {
	key string
	val reflect.Value
}

// fields lists the set fields of struct v by their toml names.
func fields(v reflect.Value) []field {
	var out []field
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name == "" || name == "-" || !t.Field(i).IsExported() {
			continue
		}
		fv := v.Field(i)
		if isEmpty(fv) {
			continue
		}
		out = append(out, field{name, fv})
	}
	return out
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer:
		return v.IsNil()
	case reflect.Struct:
		return len(fields(v)) == 0
	}
	return v.IsZero()
}

// isTable says whether v is written as a table of its own ([x]).
func isTable(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		return true
	case reflect.Map:
		e := v.Type().Elem()
		return e.Kind() == reflect.Struct
	case reflect.Slice:
		return v.Type().Elem().Kind() == reflect.Struct
	}
	return false
}

func writeTable(b *strings.Builder, path []string, v reflect.Value, arrayElem bool) {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	fs := fields(v)
	var values, tables []field
	for _, f := range fs {
		if isTable(f.val) {
			tables = append(tables, f)
		} else {
			values = append(values, f)
		}
	}
	switch {
	case arrayElem:
		fmt.Fprintf(b, "\n[[%s]]\n", joinKeys(path))
	case len(path) > 0 && len(values) > 0:
		fmt.Fprintf(b, "\n[%s]\n", joinKeys(path))
	}
	for _, f := range values {
		fmt.Fprintf(b, "%s = %s\n", quoteKey(f.key), encodeValue(f.val))
	}
	for _, f := range tables {
		sub := append(append([]string(nil), path...), f.key)
		fv := f.val
		for fv.Kind() == reflect.Pointer {
			fv = fv.Elem()
		}
		switch fv.Kind() {
		case reflect.Struct:
			writeTable(b, sub, fv, false)
		case reflect.Map:
			keys := fv.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				e := fv.MapIndex(k)
				p := append(append([]string(nil), sub...), k.String())
				if len(fields(e)) == 0 {
					// An empty table still names its key.
					fmt.Fprintf(b, "\n[%s]\n", joinKeys(p))
					continue
				}
				writeTable(b, p, e, false)
			}
		case reflect.Slice:
			for i := 0; i < fv.Len(); i++ {
				writeTable(b, sub, fv.Index(i), true)
			}
		}
	}
}

func joinKeys(path []string) string {
	q := make([]string, len(path))
	for i, k := range path {
		q[i] = quoteKey(k)
	}
	return strings.Join(q, ".")
}

func quoteKey(k string) string {
	if bareKeyRe.MatchString(k) {
		return k
	}
	return quoteString(k)
}

func encodeValue(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if strings.Contains(v.String(), "\n") {
			return multiline(v.String())
		}
		return quoteString(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Slice:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = encodeValue(v.Index(i))
		}
		return "[" + strings.Join(items, ", ") + "]"
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = quoteKey(k.String()) + " = " + quoteString(v.MapIndex(k).String())
		}
		return "{ " + strings.Join(items, ", ") + " }"
	}
	panic("importer: cannot write a " + v.Kind().String() + " as TOML")
}

// quoteString writes s as a TOML basic string.
func quoteString(s string) string {
	return `"` + escape(s, false) + `"`
}

// multiline writes s as a TOML multi-line basic string, its lines as
// they are.
func multiline(s string) string {
	return "\"\"\"\n" + escape(s, true) + "\"\"\""
}

func escape(s string, newlines bool) string {
	var b strings.Builder
	quotes := 0 // '"' written in a row, in a multi-line string
	for i, r := range s {
		if r != '"' {
			quotes = 0
		}
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"' && newlines && quotes < 2 && i != len(s)-1:
			// Up to two in a row stand for themselves; a third, or one
			// just before the closing """, is escaped.
			b.WriteByte('"')
			quotes++
		case r == '"':
			b.WriteString(`\"`)
			quotes = 0
		case r == '\n' && newlines:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
