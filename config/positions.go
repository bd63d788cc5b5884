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

// Limits of one configuration file's shape: an agent file is untrusted,
// and a file within the size cap but with a hundred thousand keys or
// nesting would take the decoder seconds (its work grows faster than the
// file).
const (
	MaxKeys  = 4096 // keys and tables in a file
	MaxDepth = 16   // parts of a dotted key, nesting of inline tables and arrays
)

// lineIndex turns byte offsets into lines and columns in O(log n).
type lineIndex []int // offsets where lines start

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

func (li lineIndex) at(offset int) (line, col int) {
	i := sort.SearchInts(li, offset+1) - 1
	return i + 1, offset - li[i] + 1
}

// shapeError is a file that breaks MaxKeys or MaxDepth.
type shapeError struct {
	loc Location
	msg string
}

// indexPositions walks the TOML document's syntax tree and records the
// position of every key. It stops with a shapeError at the first place
// the file breaks MaxKeys or MaxDepth, and returns what it indexed when
// the document does not parse (the decoder then reports the syntax error).
func indexPositions(file string, data []byte) (positions, *shapeError) {
	idx := positions{}
	lines := newLineIndex(data)
	keys := 0
	var shapeErr *shapeError
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
		line, col := lines.at(int(n.Raw.Offset))
		idx[path] = Location{File: file, Line: line, Col: col, Field: path}
	}
	limit := func(path string, n *unstable.Node, depth int) bool {
		keys++
		switch {
		case shapeErr != nil:
		case keys > MaxKeys:
			line, col := lines.at(int(n.Raw.Offset))
			shapeErr = &shapeError{Location{File: file, Line: line, Col: col, Field: path},
				fmt.Sprintf("the file has more than %d keys and tables: an agent file describes one agent; is this the right file?", MaxKeys)}
		case depth > MaxDepth:
			line, col := lines.at(int(n.Raw.Offset))
			shapeErr = &shapeError{Location{File: file, Line: line, Col: col, Field: path},
				fmt.Sprintf("nested more than %d levels deep: no herdctl option is", MaxDepth)}
		}
		return shapeErr == nil
	}
	var walkValue func(prefix string, v *unstable.Node, depth int)
	walkKeyValue := func(prefix string, kv *unstable.Node, depth int) {
		parts, first := keyParts(kv)
		path := prefix
		for _, k := range parts {
			path = joinPath(path, k)
		}
		if first == nil || !limit(path, first, depth+len(parts)) {
			return
		}
		record(path, first)
		walkValue(path, kv.Value(), depth+len(parts))
	}
	walkValue = func(path string, v *unstable.Node, depth int) {
		if shapeErr != nil {
			return
		}
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				walkKeyValue(path, it.Node(), depth)
			}
		case unstable.Array:
			if depth+1 > MaxDepth {
				limit(path, v, depth+1)
				return
			}
			it := v.Children()
			i := 0
			for it.Next() {
				elem := fmt.Sprintf("%s[%d]", path, i)
				n := it.Node()
				if n.Kind == unstable.InlineTable || n.Kind == unstable.Array {
					walkValue(elem, n, depth+1)
				}
				i++
			}
		}
	}
	for shapeErr == nil && p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			walkKeyValue(current, e, strings.Count(current, ".")+1)
		case unstable.Table:
			parts, first := keyParts(e)
			current = resolve(parts)
			if first != nil && limit(current, first, len(parts)) {
				record(current, first)
			}
		case unstable.ArrayTable:
			parts, first := keyParts(e)
			base := joinPath(resolve(parts[:len(parts)-1]), parts[len(parts)-1])
			arrays[base]++
			current = fmt.Sprintf("%s[%d]", base, arrays[base]-1)
			if first != nil && limit(current, first, len(parts)) {
				record(current, first)
			}
		}
	}
	return idx, shapeErr
}

// keyParts is the parts of a key, at most MaxDepth+1 of them (enough to
// see a key is too deep without paying for a hundred thousand parts).
func keyParts(n *unstable.Node) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	it := n.Key()
	for it.Next() && len(parts) <= MaxDepth {
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
