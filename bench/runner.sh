#!/usr/bin/env bash
# Runner overhead: a trivial job (/usr/bin/true) through `herdctl job run`
# against `ctr run --rm` of the same root (an empty skeleton with the
# host's /usr bound read-only), same containerd, same run. Medians of N.
# Needs root, containerd, runc and bin/herdctl (make build).
set -euo pipefail
N=${N:-10}
cd "$(dirname "$0")/.."
D=$(mktemp -d /tmp/hc-bench-XXXX)
trap 'kill $CPID 2>/dev/null; wait $CPID 2>/dev/null; umount -R $D/state 2>/dev/null; rm -rf $D' EXIT
printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > $D/config.toml
containerd --config $D/config.toml --root $D/root --state $D/state --address $D/c.sock >$D/log 2>&1 & CPID=$!
for i in $(seq 100); do [ -S $D/c.sock ] && ctr -a $D/c.sock version >/dev/null 2>&1 && break; sleep 0.1; done
mkdir -p $D/skel/{usr,etc,tmp,proc,sys,dev} $D/ws $D/state-h $D/run-h
for l in bin lib lib64 sbin; do ln -s usr/$l $D/skel/$l; done
chown 1000:1000 $D/ws
cat > $D/agent.json <<JSON
{"fleet":"bench","name":"bench","file":"/dev/null","command":["/usr/bin/true"],"workspace":"$D/ws","workspace_mode":"rw",
 "home":"$D/state-h/agents/bench/home","max_concurrent":1,"claude":{"path":"","permission_mode":"default"},
 "schedules":[{"name":"s","type":"interval","interval":3600000000000,"prompt":"x","enabled":true,"timeout":60000000000,"jitter":0,"catch_up":true}],
 "container":{"image":"host","network":"none","uid":1000,"gid":1000,"memory_bytes":536870912,"pids_limit":64,"tmp_size":16777216,"readonly_rootfs":false,"ephemeral":true,"max_containers":1}}
JSON
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
floor=(); herd=()
for i in $(seq $N); do
	floor+=($(ms ctr -a $D/c.sock -n bench run --rm --rootfs --mount type=bind,src=/usr,dst=/usr,options=rbind:ro $D/skel f$i /usr/bin/true))
	herd+=($(ms bin/herdctl job run --agent bench --schedule s --agent-file $D/agent.json --state-dir $D/state-h --runtime-dir $D/run-h --containerd $D/c.sock))
done
# The last herdctl job must have completed, or the figure means nothing.
bin/herdctl job run --agent bench --schedule s --agent-file $D/agent.json --state-dir $D/state-h --runtime-dir $D/run-h --containerd $D/c.sock 2>&1 | tail -1
f=$(printf '%s\n' "${floor[@]}" | median); h=$(printf '%s\n' "${herd[@]}" | median)
printf '%-34s %8s\n' "figure (median of $N, ms)" "value"
printf '%-34s %8s\n' "ctr run --rm (floor)" "$f" "herdctl job run" "$h"
printf '%-34s %8s\n' "ratio" "$(awk "BEGIN{printf \"%.2f\", $h/$f}")"
