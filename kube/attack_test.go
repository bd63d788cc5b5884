package kube

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/herdctl/herdctl/policy"
)

// TestAgentTextStaysText: an agent writes its prompts (its own file). A
// prompt that breaks out of its YAML string, or that names a variable
// for Kubernetes to expand into the command line ($(ANTHROPIC_API_KEY)
// would put a secret on it), reaches Claude Code as the agent wrote it
// and adds no object.
func TestAgentTextStaysText(t *testing.T) {
	const evil = "$(ANTHROPIC_API_KEY) $$(HOME) ${GIT_TOKEN}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\n...\n"
	cmds, err := quietCommands(t, evil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		// What the kubelet runs: $$ is $, and no $(NAME) is left to expand.
		var run []string
		for _, w := range cmd {
			if strings.Contains(strings.ReplaceAll(w, "$$", ""), "$(") {
				t.Errorf("a word Kubernetes would expand: %q", w)
			}
			run = append(run, strings.ReplaceAll(w, "$$", "$"))
		}
		if !slices.Contains(run, evil) || !slices.Contains(run, "--append-system-prompt="+evil) {
			t.Errorf("the prompts do not reach Claude Code as written: %q", run)
		}
	}
}

// quietCommands exports the networks fleet with prompt as agent quiet's
// prompts (its system prompt too when system), checks that the YAML has
// one document an object and that each reads back as kubectl reads it
// (sigs.k8s.io/yaml), and returns the commands of quiet's two CronJobs.
// The error is WriteYAML's.
func quietCommands(t *testing.T, prompt string, system bool) ([][]string, error) {
	t.Helper()
	f, opts := load(t, fleets["networks"])
	for _, a := range f.Agents {
		if a.Name == "quiet" {
			a.DefaultPrompt = prompt
			if system {
				a.Claude.SystemPrompt = prompt
			}
			for i := range a.Schedules {
				a.Schedules[i].Prompt = prompt
			}
		}
	}
	e, err := Render(f.Agents, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.WriteYAML(&b, Header{}, opts); err != nil {
		return nil, err
	}
	docs := strings.Split(b.String(), "\n---\n")[1:]
	if len(docs) != len(e.Objects) {
		t.Fatalf("%.40q: %d documents for %d objects", prompt, len(docs), len(e.Objects))
	}
	var cmds [][]string
	for _, d := range docs {
		var cj CronJobSpec
		o := struct {
			Kind     string
			Metadata Meta
			Spec     *CronJobSpec
		}{Spec: &cj}
		if err := yaml.Unmarshal([]byte(d), &o); err != nil {
			t.Fatalf("%.40q: %v", prompt, err)
		}
		if o.Kind == "CronJob" && o.Metadata.Labels[LabelAgent] == "quiet" {
			cmds = append(cmds, cj.JobTemplate.Spec.Template.Spec.Containers[0].Command)
		}
	}
	if len(cmds) != 2 {
		t.Fatalf("%.40q: found %d of quiet's CronJobs", prompt, len(cmds))
	}
	return cmds, nil
}

// TestRelayAgentsNeverSeeTheKey: a pod of an agent whose relay holds its
// credential gets the placeholder, and no reference to the Secret's key:
// only the egress Deployment reads it.
func TestRelayAgentsNeverSeeTheKey(t *testing.T) {
	for _, name := range []string{"networks", "sessions"} {
		f, opts := load(t, fleets[name])
		e, err := Render(f.Agents, opts)
		if err != nil {
			t.Fatal(err)
		}
		relayed := 0
		for _, o := range e.Objects {
			cj, ok := o.Spec.(CronJobSpec)
			if !ok {
				continue
			}
			c := cj.JobTemplate.Spec.Template.Spec.Containers[0]
			placeholder := false
			for _, v := range c.Env {
				if v.Value == "sk-ant-herdctl-relay-holds-the-real-credential" {
					placeholder = true
				}
			}
			if !placeholder {
				continue
			}
			relayed++
			for _, v := range c.Env {
				if ref := v.ValueFrom; ref != nil && ref.SecretKeyRef != nil && (ref.SecretKeyRef.Key == "ANTHROPIC_API_KEY" || ref.SecretKeyRef.Key == "CLAUDE_CODE_OAUTH_TOKEN") {
					t.Errorf("%s %s: %s refers to the credential", name, o.Metadata.Name, v.Name)
				}
			}
			if len(c.EnvFrom) > 0 {
				t.Errorf("%s %s: takes the whole Secret", name, o.Metadata.Name)
			}
		}
		if relayed == 0 {
			t.Errorf("%s: no agent behind the relay", name)
		}
	}
}

// TestAgentTextAnyCharacter: an agent's prompt may hold any character its
// file can write as a TOML escape ("\u007f", "\u0085"; validate takes
// them). The YAML export is written whole, every document reads back
// (as kubectl reads it: sigs.k8s.io/yaml), and the prompt reaches Claude
// Code as written. Before, DEL, a C1 control or U+FFFE/U+FFFF failed the
// whole export ("control characters are not allowed"), and a NEL
// (U+0085) reached Claude Code as a space.
func TestAgentTextAnyCharacter(t *testing.T) {
	var all strings.Builder
	for r := rune(1); r <= 0xffff; r++ {
		if r < 0xd800 || r > 0xdfff {
			all.WriteRune(r)
		}
	}
	all.WriteString("\U0001fffe\U0010ffff\U0001f600")
	for _, evil := range []string{"hi \u007f there", "a\u0085b", "a\n\u0085kind: Evil\n", "\u009b31m\ufeff\ufffe\uffff", all.String()} {
		cmds, err := quietCommands(t, evil, false)
		if err != nil {
			t.Errorf("%.40q: %v", evil, err)
			continue
		}
		for _, cmd := range cmds {
			if got := strings.ReplaceAll(cmd[len(cmd)-1], "$$", "$"); got != evil {
				t.Errorf("the prompt %.40q reaches Claude Code as %.40q", evil, got)
			}
		}
	}
}

// TestAgentTmpfsOneMountAPath: an agent file may list tmpfs mounts (a
// narrowing option), on its own home or twice on one path ("/x" and
// "/x/.", which validate takes). On one host the later mount hides the
// earlier; Kubernetes refuses a pod with two mounts on one path ("must be
// unique"), so the agent's CronJob failed kubectl apply. The pod has one
// mount a path, the last, and a volume for each mount.
func TestAgentTmpfsOneMountAPath(t *testing.T) {
	f, opts := load(t, fleets["networks"])
	for _, a := range f.Agents {
		if a.Name == "quiet" {
			a.Container.Tmpfs = append(a.Container.Tmpfs,
				policy.Tmpfs{Path: "/home/quiet", Options: []string{"size=1048576"}},
				policy.Tmpfs{Path: "/x"}, policy.Tmpfs{Path: "/x", Options: []string{"size=2097152"}},
				policy.Tmpfs{Path: "/tmp", Options: []string{"size=1048576"}}, policy.Tmpfs{Path: "/tmp", Options: []string{"size=3145728"}})
		}
	}
	e, err := Render(f.Agents, opts)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, o := range e.Objects {
		cj, ok := o.Spec.(CronJobSpec)
		if !ok || o.Metadata.Labels[LabelAgent] != "quiet" {
			continue
		}
		found++
		pod := cj.JobTemplate.Spec.Template.Spec
		vols := map[string]Volume{}
		for _, v := range pod.Volumes {
			vols[v.Name] = v
		}
		seen := map[string]Volume{}
		for _, m := range pod.Containers[0].VolumeMounts {
			if _, dup := seen[m.MountPath]; dup {
				t.Errorf("%s: two mounts on %s", o.Metadata.Name, m.MountPath)
			}
			v, ok := vols[m.Name]
			if !ok {
				t.Errorf("%s: mount %s of no volume", o.Metadata.Name, m.Name)
			}
			seen[m.MountPath] = v
		}
		if len(pod.Volumes) != len(seen) {
			t.Errorf("%s: %d volumes for %d mounts", o.Metadata.Name, len(pod.Volumes), len(seen))
		}
		for path, size := range map[string]string{"/home/quiet": "1Mi", "/x": "2Mi", "/tmp": "3Mi"} {
			if v := seen[path]; v.EmptyDir == nil || v.EmptyDir.SizeLimit != size {
				t.Errorf("%s: %s is %+v, want the last tmpfs, of %s", o.Metadata.Name, path, v, size)
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d of quiet's CronJobs", found)
	}
}

// TestNoEnvFileValueOnACommandLine: the fleet file expands ${VAR} from
// the env file anywhere, an MCP server's env or headers too, and a pod's
// command line is in the CronJob in clear. Before, such a token was in
// the manifests ("No credential is in the manifests"); now the agent is
// refused, naming the variable and the field.
func TestNoEnvFileValueOnACommandLine(t *testing.T) {
	f, opts := load(t, fleets["networks"])
	opts.EnvFile = f.Config.Env
	token := f.Config.Env["GIT_TOKEN"]
	if len(token) < policy.MinSecretLen {
		t.Fatalf("the test fleet's GIT_TOKEN is %q", token)
	}
	for field, set := range map[string]func(a *policy.Agent){
		"mcp_servers": func(a *policy.Agent) {
			a.Claude.MCPConfig = `{"mcpServers":{"gh":{"command":"/usr/bin/gh-mcp","env":{"GH_TOKEN":"` + token + `"}}}}`
		},
		"system_prompt":  func(a *policy.Agent) { a.Claude.SystemPrompt = "the token is " + token },
		"default_prompt": func(a *policy.Agent) { a.DefaultPrompt = token },
	} {
		f, _ := load(t, fleets["networks"])
		for _, a := range f.Agents {
			if a.Name == "quiet" {
				set(a)
				if field == "default_prompt" {
					for i := range a.Schedules {
						a.Schedules[i].Prompt = ""
					}
				}
			}
		}
		e, err := Render(f.Agents, opts)
		if err == nil {
			var b bytes.Buffer
			e.WriteYAML(&b, Header{}, opts)
			if strings.Contains(b.String(), token) {
				t.Errorf("%s: the env file's GIT_TOKEN is in the manifests", field)
			} else {
				t.Errorf("%s: not refused", field)
			}
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, field+": agent \"quiet\"") || !strings.Contains(msg, "value of GIT_TOKEN from the env file") || strings.Contains(msg, token) {
			t.Errorf("%s: the refusal does not name the field and variable, or holds the value: %v", field, err)
		}
	}
	// The fleet as it is (GIT_TOKEN only in docker.env) exports.
	if _, err := Render(f.Agents, opts); err != nil {
		t.Errorf("the fleet is refused: %v", err)
	}
}

// TestEgressPodTakesOnlyTheRelaysSecrets: every agent's traffic passes
// through the egress pod, so it holds no more of the env file than its
// relays' credentials. Before, it took the whole Secret (envFrom): the
// fleet's GIT_TOKEN, which only scout's docker.env names, chat and hook
// tokens too.
func TestEgressPodTakesOnlyTheRelaysSecrets(t *testing.T) {
	f, opts := load(t, fleets["networks"])
	e, err := Render(f.Agents, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range e.Objects {
		d, ok := o.Spec.(DeploymentSpec)
		if !ok {
			continue
		}
		c := d.Template.Spec.Containers[0]
		if len(c.EnvFrom) > 0 {
			t.Errorf("the egress pod takes the whole Secret: %+v", c.EnvFrom)
		}
		var keys []string
		for _, v := range c.Env {
			if v.ValueFrom != nil && v.ValueFrom.SecretKeyRef != nil {
				keys = append(keys, v.ValueFrom.SecretKeyRef.Key)
			}
		}
		if !slices.Equal(keys, []string{"ANTHROPIC_API_KEY"}) {
			t.Errorf("the egress pod takes %q of the Secret, want the relay's ANTHROPIC_API_KEY alone", keys)
		}
		return
	}
	t.Fatal("no egress Deployment")
}

// TestJobBudgetMeteredByTheRelay (the red team's K6): on one host the
// API relay refuses a job's requests once it has spent
// max_cost_usd_per_job. The egress Deployment's relay meters each job's
// pod the same way (service/runner's podMeters): its config carries the
// agent's job budget and its longest deadline, how long a pod's meter
// lasts. Before, the egress relay metered nothing, and a process of the
// job that called the relay itself was held to no budget.
func TestJobBudgetMeteredByTheRelay(t *testing.T) {
	f, opts := load(t, fleets["networks"])
	for _, a := range f.Agents {
		if a.Name == "scout" {
			a.Budget.PerJob = 0.5
		}
	}
	e, err := Render(f.Agents, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range e.Notes {
		if strings.Contains(n, "max_cost_usd_per_job") {
			t.Errorf("a note says the job budget is not held: %s", n)
		}
	}
	var cfg EgressConfig
	for _, o := range e.Objects {
		if o.Kind == "ConfigMap" && o.Data["egress.json"] != "" {
			if err := json.Unmarshal([]byte(o.Data["egress.json"]), &cfg); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ea := range cfg.Agents {
		if ea.Agent == "scout" {
			if ea.JobBudgetUSD != 0.5 || ea.JobSeconds <= 0 {
				t.Errorf("scout's relay: budget $%v, meter %d s", ea.JobBudgetUSD, ea.JobSeconds)
			}
			return
		}
	}
	t.Error("scout has no relay in the egress config")
}
