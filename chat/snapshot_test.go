package chat

import (
	"strings"
	"testing"

	"github.com/herdctl/herdctl/policy"
)

func TestSnapshot(t *testing.T) {
	if _, any := Encode(map[string]*policy.Agent{"a": {Name: "a"}}); any {
		t.Error("a snapshot without chat")
	}
	agents := map[string]*policy.Agent{
		"b": {Name: "b", Chat: &policy.Chat{Agent: "b", Busy: policy.BusyQueue, Slack: &policy.SlackChat{AppToken: "xapp-1", BotToken: "xoxb-1", Users: []string{"U1"}}}},
		"a": {Name: "a", Chat: &policy.Chat{Agent: "a", Busy: policy.BusyReply, Discord: &policy.DiscordChat{BotToken: "t", Users: []string{"1"}}}},
		"c": {Name: "c"},
	}
	b, any := Encode(agents)
	if !any {
		t.Fatal("no snapshot")
	}
	s, err := Decode(b)
	if err != nil || len(s.Agents) != 2 || s.Agents[0].Agent != "a" || s.Agents[1].Slack.BotToken != "xoxb-1" {
		t.Fatalf("%+v %v", s, err)
	}
	if b2, _ := Encode(agents); string(b2) != string(b) || Fingerprint(b) != Fingerprint(b2) || Fingerprint(nil) != "" {
		t.Error("the snapshot is not stable")
	}
	for name, bad := range map[string]string{
		"another version":  strings.Replace(string(b), `"version":2`, `"version":1`, 1),
		"an unknown field": strings.Replace(string(b), `"version":2`, `"version":2,"x":1`, 1),
		"trailing data":    string(b) + "{}",
		"no bot":           `{"version":1,"agents":[{"agent":"a","busy":"reply"}]}`,
	} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
