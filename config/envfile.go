package config

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

var envKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseEnvFile parses KEY=VALUE lines: blank lines and lines starting with
// # are skipped, an optional "export " prefix is allowed, values may be
// bare (trimmed, a " #" starts a comment), 'single-quoted' (literal) or
// "double-quoted" (\n, \t, \", \\ and \$ escapes). file names the source
// in errors.
func ParseEnvFile(file string, data []byte) (map[string]string, error) {
	env := map[string]string{}
	var errs Errors
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), maxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, raw, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		loc := Location{File: file, Line: n, Col: 1, Field: key}
		if !ok {
			errs = append(errs, Errorf(loc, "expected KEY=VALUE; write the line as NAME=value or comment it out with #"))
			continue
		}
		if !envKeyRe.MatchString(key) {
			errs = append(errs, Errorf(loc, "invalid variable name: use letters, digits and _, not starting with a digit"))
			continue
		}
		val, err := envValue(strings.TrimSpace(raw))
		if err != "" {
			loc.Col = len(key) + 2
			errs = append(errs, Errorf(loc, "%s", err))
			continue
		}
		env[key] = val
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, Errorf(Location{File: file}, "%v", err))
	}
	return env, errs.Err()
}

func envValue(raw string) (string, string) {
	if raw == "" {
		return "", ""
	}
	switch raw[0] {
	case '\'':
		end := strings.IndexByte(raw[1:], '\'')
		if end < 0 {
			return "", "unterminated single quote: close the value with '"
		}
		if rest := strings.TrimSpace(raw[end+2:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", "text after the closing quote: put a # before a comment"
		}
		return raw[1 : end+1], ""
	case '"':
		var b strings.Builder
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '\\' && i+1 < len(raw):
				i++
				switch raw[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(raw[i])
				}
			case c == '"':
				if rest := strings.TrimSpace(raw[i+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
					return "", "text after the closing quote: put a # before a comment"
				}
				return b.String(), ""
			default:
				b.WriteByte(c)
			}
		}
		return "", `unterminated double quote: close the value with "`
	}
	if i := strings.Index(raw, " #"); i >= 0 {
		raw = raw[:i]
	}
	return strings.TrimSpace(raw), ""
}
