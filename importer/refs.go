package importer

import (
	"regexp"
	"strings"
)

// refRe is a ${VAR} or ${VAR:-default} reference as the original expands
// it (and as config expands it in the fleet file).
var refRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// refs lists the variables s references, and whether each has a default.
func refs(s string) map[string]bool {
	var out map[string]bool
	for _, m := range refRe.FindAllStringSubmatchIndex(s, -1) {
		if out == nil {
			out = map[string]bool{}
		}
		name := s[m[2]:m[3]]
		out[name] = out[name] || m[4] < 0 // true: required somewhere
	}
	return out
}

// fleetString writes s for the fleet file, where config expands ${VAR}:
// every reference stays a reference, and any other "${" (which the
// original left as it was) is escaped as "$${".
func fleetString(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range refRe.FindAllStringIndex(s, -1) {
		b.WriteString(strings.ReplaceAll(s[last:m[0]], "${", "$${"))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(strings.ReplaceAll(s[last:], "${", "$${"))
	return b.String()
}

// expand replaces every reference in s from lookup, as the original does
// (a reference without a value and without a default is left as it is,
// and reported by ok = false).
func expand(s string, lookup func(string) (string, bool)) (out string, missing []string) {
	out = refRe.ReplaceAllStringFunc(s, func(ref string) string {
		m := refRe.FindStringSubmatch(ref)
		if v, ok := lookup(m[1]); ok {
			return v
		}
		if strings.Contains(ref, ":-") {
			return m[2]
		}
		missing = append(missing, m[1])
		return ref
	})
	return out, missing
}

// envName makes a variable name from an agent's name and a suffix:
// "price-bot", "DISCORD_USERS" → PRICE_BOT_DISCORD_USERS.
func envName(agent, suffix string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(agent) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "A" + name
	}
	return name + "_" + suffix
}
