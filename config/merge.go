package config

import (
	"fmt"
	"strings"
)

// layer is one source of agent options: the fleet's defaults, the agent
// file, or the fleet's overrides for that agent.
type layer struct {
	tree   map[string]any
	idx    positions
	file   string
	prefix string // where tree stands inside its file, e.g. "agents[2].overrides"
}

// full turns a path inside the layer into a path inside its file.
func (l layer) full(p string) string {
	if l.prefix == "" {
		return p
	}
	return l.prefix + "." + p
}

// mergeLayers deep-merges the layers in order: tables merge key by key,
// scalars and arrays replace. origins records, for every path of the
// result, where the value that won was written.
func mergeLayers(layers ...layer) (map[string]any, map[string]Location) {
	merged := map[string]any{}
	origins := map[string]Location{}
	for _, l := range layers {
		mergeInto(merged, l.tree, "", l, origins)
	}
	return merged, origins
}

func mergeInto(dst, src map[string]any, path string, l layer, origins map[string]Location) {
	for k, v := range src {
		p := joinPath(path, k)
		origins[p] = l.idx.at(l.file, l.full(p))
		if sub, ok := v.(map[string]any); ok {
			if have, ok := dst[k].(map[string]any); ok {
				mergeInto(have, sub, p, l, origins)
				continue
			}
			fresh := map[string]any{}
			if _, had := dst[k]; had {
				dropBelow(origins, p)
			}
			mergeInto(fresh, sub, p, l, origins)
			dst[k] = fresh
			continue
		}
		if _, had := dst[k]; had {
			dropBelow(origins, p)
		}
		dst[k] = v
		if list, ok := v.([]any); ok {
			recordElements(list, p, l, origins)
		}
	}
}

// recordElements records where each key inside the tables of an array
// (an array of tables, [[hooks.on_error]]) was written, so that an error
// in its second table points at that table's line.
func recordElements(list []any, path string, l layer, origins map[string]Location) {
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch t := e.(type) {
		case map[string]any:
			origins[p] = l.idx.at(l.file, l.full(p))
			for k, v := range t {
				kp := joinPath(p, k)
				origins[kp] = l.idx.at(l.file, l.full(kp))
				if sub, ok := v.([]any); ok {
					recordElements(sub, kp, l, origins)
				}
			}
		case []any:
			recordElements(t, p, l, origins)
		}
	}
}

func dropBelow(origins map[string]Location, path string) {
	for k := range origins {
		if strings.HasPrefix(k, path+".") || strings.HasPrefix(k, path+"[") {
			delete(origins, k)
		}
	}
}
