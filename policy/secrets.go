package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ExpandSecret turns a secret template (policy's Container.SecretEnv: the
// value with each of the env file's values in it written ${NAME}, and $
// written $$) back into the value, from the env file's variables.
func ExpandSecret(template string, env map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		switch {
		case strings.HasPrefix(template[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(template[i:], "${"):
			end := strings.IndexByte(template[i:], '}')
			if end < 0 {
				return "", errors.New("a secret reference is not closed")
			}
			name := template[i+2 : i+end]
			v, ok := env[name]
			if !ok {
				return "", fmt.Errorf("%s is not in the env file any more: put it back, or run systemctl reload herdctl", name)
			}
			b.WriteString(v)
			i += end
		default:
			return "", errors.New("a lone $ in a secret template")
		}
	}
	return b.String(), nil
}

// SecretTemplate writes value as a template that names, instead of
// holding, every env file value (at least MinSecretLen long) it contains:
// the longest first, so that one secret inside another stays whole.
// ExpandSecret(SecretTemplate(v, env), env) == v. ok is false when value
// holds no secret.
func SecretTemplate(value string, env map[string]string) (template string, ok bool) {
	type secret struct{ name, value string }
	var secrets []secret
	for name, v := range env {
		if len(v) >= MinSecretLen && strings.Contains(value, v) {
			secrets = append(secrets, secret{name, v})
		}
	}
	if len(secrets) == 0 {
		return "", false
	}
	// Longest first; equal values by name, for a stable template.
	for i := 1; i < len(secrets); i++ {
		for j := i; j > 0 && (len(secrets[j].value) > len(secrets[j-1].value) ||
			len(secrets[j].value) == len(secrets[j-1].value) && secrets[j].name < secrets[j-1].name); j-- {
			secrets[j], secrets[j-1] = secrets[j-1], secrets[j]
		}
	}
	var b strings.Builder
	for i := 0; i < len(value); {
		matched := false
		for _, s := range secrets {
			if strings.HasPrefix(value[i:], s.value) {
				b.WriteString("${" + s.name + "}")
				i += len(s.value)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if value[i] == '$' {
			b.WriteString("$$")
		} else {
			b.WriteByte(value[i])
		}
		i++
	}
	return b.String(), true
}

// MinSecretLen is the shortest env file value treated as a secret: a
// value like "1" or "true" is a setting, and stays in the snapshot.
const MinSecretLen = 8

// sealSecrets moves every variable of env whose value holds one of the
// env file's values into templates that name them instead.
func sealSecrets(env, envFile map[string]string) (plain, secret map[string]string) {
	for k, v := range env {
		if t, ok := SecretTemplate(v, envFile); ok {
			if secret == nil {
				secret = map[string]string{}
			}
			secret[k] = t
			continue
		}
		if plain == nil {
			plain = map[string]string{}
		}
		plain[k] = v
	}
	return plain, secret
}

// OpenSecrets is the container's whole environment: Env and SecretEnv
// expanded from envFile, the env file as the job's credential holds it.
func (c Container) OpenSecrets(envFile map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(c.Env)+len(c.SecretEnv))
	for k, v := range c.Env {
		out[k] = v
	}
	for k, t := range c.SecretEnv {
		v, err := ExpandSecret(t, envFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// HasEnv says whether the container gets variable k (a secret or not).
func (c Container) HasEnv(k string) bool {
	_, secret := c.SecretEnv[k]
	return c.Env[k] != "" || secret
}
