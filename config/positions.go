package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps a field path inside one file ("agents[1].overrides.model")
// to where its key stands. Tables are recorded too, so a problem with a
// missing field can point at the table that lacks it.
type positions map[string]Location

// indexPositions walks the TOML document's syntax tree and records the
// position of every key. It assumes data already parsed without error.
func indexPositions(file string, data []byte) positions {
	idx := positions{}
	arrays := map[string]int{} // array-table path → elements seen
	resolve := func(parts []string) string {
		p := ""
		for _, part := range parts {
			p = joinPath(p, part)
			if n := arrays[p]; n > 0 {
				p = fmt.Sprintf("%s[%d]", p, n-1)
			}
		}
		return p
	}
	var p unstable.Parser
	p.Reset(data)
	current := ""
	record := func(path string, n *unstable.Node) {
		sh := p.Shape(n.Raw)
		idx[path] = Location{File: file, Line: sh.Start.Line, Col: sh.Start.Column, Field: path}
	}
	var walkValue func(prefix string, v *unstable.Node)
	walkKeyValue := func(prefix string, kv *unstable.Node) {
		parts, first := keyParts(kv)
		path := prefix
		for _, k := range parts {
			path = joinPath(path, k)
		}
		if first != nil {
			record(path, first)
		}
		walkValue(path, kv.Value())
	}
	walkValue = func(path string, v *unstable.Node) {
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				walkKeyValue(path, it.Node())
			}
		case unstable.Array:
			it := v.Children()
			i := 0
			for it.Next() {
				elem := fmt.Sprintf("%s[%d]", path, i)
				n := it.Node()
				if n.Kind == unstable.InlineTable {
					walkValue(elem, n)
				}
				i++
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			walkKeyValue(current, e)
		case unstable.Table:
			parts, first := keyParts(e)
			current = resolve(parts)
			if first != nil {
				record(current, first)
			}
		case unstable.ArrayTable:
			parts, first := keyParts(e)
			base := joinPath(resolve(parts[:len(parts)-1]), parts[len(parts)-1])
			arrays[base]++
			current = fmt.Sprintf("%s[%d]", base, arrays[base]-1)
			if first != nil {
				record(current, first)
			}
		}
	}
	return idx
}

func keyParts(n *unstable.Node) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if first == nil {
			first = k
		}
		parts = append(parts, string(k.Data))
	}
	return parts, first
}

// joinPath appends one key to a field path, quoting keys that would
// otherwise be ambiguous.
func joinPath(prefix, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]\" ") {
		key = fmt.Sprintf("%q", key)
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// at returns the location of path, or of its nearest recorded parent, or
// of the top of the file.
func (idx positions) at(file, path string) Location {
	for p := path; p != ""; p = parentPath(p) {
		if loc, ok := idx[p]; ok {
			loc.Field = path
			return loc
		}
	}
	return Location{File: file, Line: 1, Col: 1, Field: path}
}

// atLine returns the recorded field that starts at line:col, or the first
// one on that line, so a decoder error can be given its full field path.
func (idx positions) atLine(line, col int) (Location, bool) {
	var onLine []Location
	for _, loc := range idx {
		if loc.Line == line {
			if loc.Col == col {
				return loc, true
			}
			onLine = append(onLine, loc)
		}
	}
	if len(onLine) == 0 {
		return Location{}, false
	}
	sort.Slice(onLine, func(i, j int) bool { return onLine[i].Col > onLine[j].Col })
	for _, loc := range onLine {
		if loc.Col <= col {
			return loc, true
		}
	}
	return onLine[len(onLine)-1], true
}

// parentPath drops the last key (or index) of a field path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i > 0 {
			return p[:i]
		}
	}
	inQuote := false
	last := -1
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '"':
			inQuote = !inQuote
		case '.':
			if !inQuote {
				last = i
			}
		}
	}
	if last < 0 {
		return ""
	}
	return p[:last]
}
