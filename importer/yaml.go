package importer

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/state"
)

// MaxFile bounds every YAML file read (the fleet, each agent, the .env):
// a larger one is refused before it is parsed.
const MaxFile = 1 << 20

// maxNodes bounds the values one file may expand to, aliases counted each
// time they are used: a "billion laughs" file of a few hundred bytes
// would otherwise expand to gigabytes.
const maxNodes = 200_000

// maxDepth bounds how deeply values may nest.
const maxDepth = 64

// kind is what a YAML value is.
type kind int

const (
	kindNull kind = iota
	kindScalar
	kindList
	kindMap
)

// value is one YAML value with where it was written; aliases and merge
// keys (<<) are expanded.
type value struct {
	kind  kind
	tag   string // scalars: !!str, !!int, !!bool, !!float
	str   string
	items []*value
	keys  []string // mappings, in file order
	field map[string]*value
	file  string
	line  int
	col   int
}

func (v *value) loc(field string) config.Location {
	if v == nil {
		return config.Location{Field: field}
	}
	return config.Location{File: v.file, Line: v.line, Col: v.col, Field: field}
}

// get returns the mapping's value at key, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindMap {
		return nil
	}
	return v.field[key]
}

// set puts key in the mapping, appending it when new.
func (v *value) set(key string, e *value) {
	if _, ok := v.field[key]; !ok {
		v.keys = append(v.keys, key)
	}
	v.field[key] = e
}

// readYAML reads and parses the YAML file at path: a regular file (no
// symbolic link as its last component, no fifo or device) of at most
// MaxFile bytes.
func readYAML(path string) (*value, error) {
	data, err := state.ReadFileCapped(path, MaxFile)
	if err != nil {
		return nil, config.Errors{config.Errorf(config.Location{File: path}, "cannot read it: %v (a YAML file of the fleet must be a plain file of at most %d bytes)", unwrapPath(err), MaxFile)}
	}
	return parseYAML(path, data)
}

// parseYAML parses data as the YAML file path.
func parseYAML(path string, data []byte) (*value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, config.Errors{yamlError(path, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &value{kind: kindMap, field: map[string]*value{}, file: path, line: 1, col: 1}, nil
	}
	c := converter{file: path}
	v, err := c.convert(doc.Content[0], 0)
	if err != nil {
		return nil, config.Errors{err}
	}
	return v, nil
}

// yamlError turns the YAML library's error ("yaml: line 3: ...") into one
// at file:line.
func yamlError(path string, err error) *config.Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	loc := config.Location{File: path}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				loc.Line, msg = line, after
			}
		}
	}
	return config.Errorf(loc, "YAML syntax error: %s", msg)
}

type converter struct {
	file  string
	nodes int
}

func (c *converter) convert(n *yaml.Node, depth int) (*value, *config.Error) {
	at := config.Location{File: c.file, Line: n.Line, Col: n.Column}
	c.nodes++
	if c.nodes > maxNodes {
		return nil, config.Errorf(at, "the file expands to more than %d values (aliases counted each time they are used): is it an alias bomb?", maxNodes)
	}
	if depth > maxDepth {
		return nil, config.Errorf(at, "values nest more than %d deep", maxDepth)
	}
	v := &value{file: c.file, line: n.Line, col: n.Column}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, config.Errorf(at, "alias to an unknown anchor")
		}
		// Used where it is referenced; positions stay those of the anchor.
		return c.convert(n.Alias, depth+1)
	case yaml.ScalarNode:
		v.kind, v.tag, v.str = kindScalar, n.ShortTag(), n.Value
		if v.tag == "!!null" {
			v.kind = kindNull
		}
	case yaml.SequenceNode:
		v.kind = kindList
		for _, e := range n.Content {
			ev, err := c.convert(e, depth+1)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, ev)
		}
	case yaml.MappingNode:
		v.kind, v.field = kindMap, map[string]*value{}
		var merges []*value
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, e := n.Content[i], n.Content[i+1]
			kat := config.Location{File: c.file, Line: k.Line, Col: k.Column}
			if k.Kind != yaml.ScalarNode {
				return nil, config.Errorf(kat, "a mapping key must be a plain string")
			}
			ev, err := c.convert(e, depth+1)
			if err != nil {
				return nil, err
			}
			if k.ShortTag() == "!!merge" {
				merges = append(merges, ev)
				continue
			}
			if _, dup := v.field[k.Value]; dup {
				kat.Field = k.Value
				return nil, config.Errorf(kat, "key written twice in one mapping")
			}
			v.set(k.Value, ev)
		}
		// Merge keys: what the mapping writes itself wins, then the
		// merged mappings in order.
		for _, m := range merges {
			list := []*value{m}
			if m.kind == kindList {
				list = m.items
			}
			for _, mm := range list {
				if mm.kind != kindMap {
					return nil, config.Errorf(at, "<< merges mappings only")
				}
				for _, key := range mm.keys {
					if _, ok := v.field[key]; !ok {
						v.set(key, mm.field[key])
					}
				}
			}
		}
	default:
		return nil, config.Errorf(at, "unexpected YAML node")
	}
	return v, nil
}

// Typed reads of values, each an error at the value's position naming the
// field and what it should be.

func (v *value) asString(field string) (string, *config.Error) {
	if v.kind != kindScalar {
		return "", config.Errorf(v.loc(field), "must be a string")
	}
	return v.str, nil
}

func (v *value) asInt(field string) (int64, *config.Error) {
	n, err := strconv.ParseInt(v.str, 0, 64)
	if v.kind != kindScalar || v.tag != "!!int" || err != nil {
		return 0, config.Errorf(v.loc(field), "must be a whole number, not %s", v.describe())
	}
	return n, nil
}

func (v *value) asBool(field string) (bool, *config.Error) {
	if v.kind == kindScalar && v.tag == "!!bool" {
		var b bool
		if err := yaml.Unmarshal([]byte(v.str), &b); err == nil {
			return b, nil
		}
	}
	return false, config.Errorf(v.loc(field), "must be true or false, not %s", v.describe())
}

func (v *value) asStrings(field string) ([]string, *config.Error) {
	if v.kind == kindNull {
		return nil, nil
	}
	if v.kind != kindList {
		return nil, config.Errorf(v.loc(field), "must be a list of strings")
	}
	out := make([]string, 0, len(v.items))
	for i, e := range v.items {
		s, err := e.asString(fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (v *value) asStringMap(field string) (map[string]string, *config.Error) {
	if v.kind == kindNull {
		return nil, nil
	}
	if v.kind != kindMap {
		return nil, config.Errorf(v.loc(field), "must be a mapping of names to strings")
	}
	out := make(map[string]string, len(v.keys))
	for _, k := range v.keys {
		s, err := v.field[k].asString(field + "." + k)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

func (v *value) describe() string {
	switch v.kind {
	case kindNull:
		return "null"
	case kindList:
		return "a list"
	case kindMap:
		return "a mapping"
	}
	return strconv.Quote(v.str)
}
