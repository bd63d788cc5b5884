// Command herdctl-chat is herdctl's chat bridge: what herdctl-chat.service
// runs. It connects each agent's Discord and Slack bots and turns the
// messages the fleet allows into jobs over herdctl's D-Bus API. It is a
// program of its own so that the daemon links no chat library and keeps
// its PrivateNetwork=. See herdctl-chat(8).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"

	"github.com/herdctl/herdctl/chat"
	"github.com/herdctl/herdctl/chat/bridge"
	"github.com/herdctl/herdctl/chat/discord"
	"github.com/herdctl/herdctl/chat/journal"
	"github.com/herdctl/herdctl/chat/manager"
	"github.com/herdctl/herdctl/chat/slack"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/internal/version"
	"github.com/herdctl/herdctl/state"
)

// ExitReload is the exit status that asks systemd to start the bridge
// again (RestartForceExitStatus=): the fleet's chat settings changed, and
// a new start receives the new snapshot as its credential.
const ExitReload = 75

const description = `Run herdctl's chat bridge in the foreground: what herdctl-chat.service
runs (herdctl-chat.path starts it when an agent has chat configured). It
reads the chat snapshot herdctl.service wrote (every agent's bots and
their tokens), handed to it by systemd as the credential chat.json, and
connects each agent's own Discord bot (gateway) and Slack app (Socket
Mode). A mention in one of the agent's channels, or a direct message,
from one of its users becomes a manual job of the agent with the message
as its prompt, continuing that conversation's session; the answer is
posted as a reply. help, status, new (or reset), retry, usage, cancel and
sessions are commands, as a word after the mention or in a direct
message, and as Discord slash commands. Everything else is ignored, and
logged. The replies owed and the conversations' sessions are
kept in the state directory, so a restart loses none.

It reaches herdctl only through its D-Bus API, as a member of group
herdctl. When a reload of the fleet changes the chat settings it exits
with status 75 for systemd to start it again with the new snapshot, or
with 0 when no agent has chat any more.
Exit status: 0, 75 (restart with a new snapshot), 1 on a failure.`

func main() {
	cli.Main("herdctl-chat", func() error { return run(os.Args[1:]) })
}

type options struct {
	snapshot, stateDir, bus string
	version                 bool
}

func run(args []string) error {
	fs := cli.NewFlagSet("herdctl-chat", "herdctl-chat [OPTIONS]", description)
	var o options
	fs.StringVar(&o.snapshot, "snapshot", defaultSnapshot(), "the chat snapshot")
	fs.StringVar(&o.stateDir, "state-dir", orEnv("STATE_DIRECTORY", chat.StateDir), "where the replies owed and the sessions are kept")
	fs.StringVar(&o.bus, "bus", "", "the D-Bus address of herdctl (default: the system bus)")
	fs.BoolVar(&o.version, "version", false, "print the version")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if o.version {
		fmt.Printf("herdctl-chat %s\n", version.Version)
		return nil
	}
	if fs.NArg() > 0 {
		return cli.Exitf(cli.ExitUsage, "herdctl-chat takes no arguments; see herdctl-chat --help")
	}
	log := journal.New()
	defer log.Sync()
	err := serve(o, log)
	var changed *bridge.ErrSnapshotChanged
	if errors.As(err, &changed) {
		log.Info("the chat snapshot changed: "+changed.Error(), zap.String("chat_event", "snapshot_changed"))
		if changed.Fingerprint == "" {
			return nil
		}
		return &cli.ExitError{Code: ExitReload, Err: cli.ErrSilent}
	}
	return err
}

func serve(o options, log *zap.Logger) error {
	if o.snapshot == "" {
		return cli.Exitf(cli.ExitUsage, "no chat snapshot: herdctl-chat.service passes it as the credential %s (CREDENTIALS_DIRECTORY is not set); give --snapshot FILE to run it by hand", chat.SnapshotName)
	}
	b, err := state.ReadFileCapped(o.snapshot, chat.MaxSnapshot)
	if err != nil {
		return fmt.Errorf("reading the chat snapshot: %w", err)
	}
	snap, err := chat.Decode(b)
	if err != nil {
		return err
	}
	store, err := bridge.OpenStore(filepath.Join(o.stateDir, "state.json"))
	if err != nil {
		return err
	}
	d, err := manager.Dial(o.bus)
	if err != nil {
		return err
	}
	defer d.Close()
	br := &bridge.Bridge{Daemon: d, Store: store, Fingerprint: chat.Fingerprint(b), Log: log, Busy: map[string]string{}, LongAnswers: map[string]string{},
		Notify: func(s string) { daemon.SdNotify(false, s) }}
	discord.SetLogger(log)
	for _, a := range snap.Agents {
		br.Busy[a.Agent], br.LongAnswers[a.Agent] = a.Busy, a.LongAnswers
		if a.Discord != nil {
			discord.SetEndpoint(a.Discord.API)
			br.Connectors = append(br.Connectors, discord.New(a.Agent, a.Discord, bridge.NewHealth(nil), log))
		}
		if a.Slack != nil {
			br.Connectors = append(br.Connectors, slack.New(a.Agent, a.Slack, bridge.NewHealth(nil), log))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log.Info("herdctl-chat starting", zap.Int("chat_agents", len(snap.Agents)), zap.Int("chat_connectors", len(br.Connectors)),
		zap.String("chat_snapshot", br.Fingerprint))
	return br.Run(ctx)
}

// defaultSnapshot is the credential systemd passes, "" outside the unit.
func defaultSnapshot() string {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		return filepath.Join(dir, chat.SnapshotName)
	}
	return ""
}

func orEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return filepath.SplitList(v)[0]
	}
	return def
}
