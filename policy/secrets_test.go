package policy

import (
	"strings"
	"testing"
)

func TestSecretTemplate(t *testing.T) {
	env := map[string]string{"KEY": "sk-ant-0123456789", "TOKEN": "tok$en-abcdefgh", "INNER": "0123456789", "FLAG": "1"}
	for _, v := range []string{
		"sk-ant-0123456789",
		"Bearer tok$en-abcdefgh",
		"$HOME and sk-ant-0123456789 and 0123456789 and 1",
		"a $$ b ${KEY} c",
	} {
		tmpl, ok := SecretTemplate(v, env)
		if !ok {
			if strings.Contains(v, "sk-") || strings.Contains(v, "tok") {
				t.Errorf("%q: no secret found", v)
			}
			continue
		}
		for _, secret := range []string{"sk-ant-0123456789", "tok$en-abcdefgh"} {
			if strings.Contains(tmpl, secret) {
				t.Errorf("%q: the template %q holds a secret", v, tmpl)
			}
		}
		back, err := ExpandSecret(tmpl, env)
		if err != nil || back != v {
			t.Errorf("%q: template %q expands to %q, %v", v, tmpl, back, err)
		}
	}
	if _, ok := SecretTemplate("a $$ b ${KEY} c", env); ok {
		t.Error("a value without secrets made a template")
	}
	if _, err := ExpandSecret("${GONE}", env); err == nil || !strings.Contains(err.Error(), "GONE is not in the env file") {
		t.Errorf("a reference to a removed variable: %v", err)
	}
}
