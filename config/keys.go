package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// exactKeys lists the keys of tree that do not spell a field of t exactly.
// The TOML decoder matches field names case-insensitively; herdctl does
// not, because package policy decides tiers by exact key ("docker.image"),
// and "[Docker] Image" must not slip past it.
func exactKeys(tree map[string]any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var bad []string
	switch t.Kind() {
	case reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for _, k := range sortedKeys(tree) {
			ft, ok := fields[k]
			p := joinPath(path, k)
			if !ok {
				bad = append(bad, p)
				continue
			}
			bad = append(bad, exactValue(tree[k], ft, p)...)
		}
	case reflect.Map:
		for _, k := range sortedKeys(tree) {
			bad = append(bad, exactValue(tree[k], t.Elem(), joinPath(path, k))...)
		}
	}
	return bad
}

func exactValue(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch vv := v.(type) {
	case map[string]any:
		return exactKeys(vv, t, path)
	case []any:
		if t.Kind() != reflect.Slice {
			return nil
		}
		var bad []string
		for i, e := range vv {
			bad = append(bad, exactValue(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		sort.Strings(bad)
		return bad
	}
	return nil
}
