package config

import (
	"fmt"
	"strings"
)

// Lookup finds a variable's value; ok is false when it is not defined.
type Lookup func(name string) (value string, ok bool)

// Expand replaces ${VAR} and ${VAR:-default} in s. "$${" stands for a
// literal "${". A variable that is not defined and has no default is an
// error naming it. Any other "$" is left alone.
func Expand(s string, lookup Lookup) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ at offset %d: close it with } (write $${ for a literal ${)", i)
		}
		expr := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !envKeyRe.MatchString(name) {
			return "", fmt.Errorf("invalid variable reference ${%s}: use ${NAME} or ${NAME:-default}", expr)
		}
		v, ok := lookup(name)
		switch {
		case ok:
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", fmt.Errorf("variable %s is not defined: add %s=... to the env file, or write ${%s:-default}", name, name, name)
		}
		i += end + 1
	}
	return b.String(), nil
}

// expandTree expands every string in a decoded TOML tree in place,
// reporting each failure at its field path.
func expandTree(v any, path string, lookup Lookup, fail func(path string, err error)) any {
	switch t := v.(type) {
	case string:
		out, err := Expand(t, lookup)
		if err != nil {
			fail(path, err)
			return t
		}
		return out
	case map[string]any:
		for k, e := range t {
			t[k] = expandTree(e, joinPath(path, k), lookup, fail)
		}
	case []any:
		for i, e := range t {
			t[i] = expandTree(e, fmt.Sprintf("%s[%d]", path, i), lookup, fail)
		}
	}
	return v
}
