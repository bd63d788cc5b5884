# bash completion for herdctlctl(1)
#
# Needs nothing but bash: not the bash-completion package's helpers,
# though it uses _filedir when they are loaded. Agent names, job ids and
# schedule names come from the daemon through "herdctlctl __complete",
# which prints only words of the characters names and ids may have; they
# are matched here with [[ ]], never through compgen -W, which would
# expand a $(...) in them.

# _herdctlctl_daemon adds the words "herdctlctl __complete ARGS" prints
# that start with $cur.
_herdctlctl_daemon() {
	local w
	while IFS= read -r w; do
		[[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
	done < <(herdctlctl __complete "$@" 2>/dev/null)
}

# _herdctlctl_flags prints the options of command $1.
_herdctlctl_flags() {
	case $1 in
	status | agents | agent | show | job | sessions | cancel | disable | enable | validate) echo "--json --help" ;;
	cost) echo "--since --agent --json --help" ;;
	jobs) echo "--agent --status --session --limit --offset --json --help" ;;
	trigger) echo "--schedule --prompt --resume --queue --wait -f --json --help" ;;
	logs) echo "-f -n --json --help" ;;
	reload) echo "--quiet --json --help" ;;
	import) echo "--out --user --dry-run --force --json --help" ;;
	export) echo "--namespace --image --secret --json --help" ;;
	prune) echo "--older-than --dry-run --quiet --json --help" ;;
	esac
}

_herdctlctl() {
	local cword=$COMP_CWORD
	local cur=${COMP_WORDS[cword]} prev=""
	((cword > 0)) && prev=${COMP_WORDS[cword - 1]}
	# bash splits --agent=NAME at the "=" (COMP_WORDBREAKS).
	if [[ $cur == "=" ]]; then
		cur=""
	elif [[ $prev == "=" ]] && ((cword > 1)); then
		prev=${COMP_WORDS[cword - 2]}
	fi
	COMPREPLY=()

	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "status agents agent show jobs job sessions cost trigger cancel disable enable logs reload prune validate import export help" -- "$cur"))
		fi
		return
	fi
	local cmd=${COMP_WORDS[1]}

	# The words before the cursor: the arguments given so far, and the
	# agent a trigger is for (for its --schedule).
	local i w nargs=0 agent="" skip=""
	for ((i = 2; i < cword; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $skip ]]; then
			skip=""
			[[ $w == "=" ]] && skip=value # --flag = value
			continue
		fi
		case $w in
		--agent | --status | --limit | --schedule | --prompt | --since | -n | --namespace | --image | --secret) skip=flag ;;
		=) skip=value ;; # --json=true
		-*) ;;
		*)
			((nargs++))
			[[ $nargs == 1 ]] && agent=$w
			;;
		esac
	done

	case $prev in
	--agent)
		_herdctlctl_daemon agents
		return
		;;
	--status)
		COMPREPLY=($(compgen -W "queued running completed failed cancelled timed_out skipped" -- "$cur"))
		return
		;;
	--schedule)
		[[ -n $agent ]] && _herdctlctl_daemon schedules "$agent"
		return
		;;
	--prompt | --limit | --since | -n | --namespace | --image | --secret)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_herdctlctl_flags "$cmd")" -- "$cur"))
		return
	fi
	# export takes its format, then a fleet file; every other command
	# at most one argument.
	if [[ $cmd == export ]]; then
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -W "kubernetes" -- "$cur"))
			return
		fi
		((nargs == 1)) && cmd=validate # a fleet file, as validate takes
	fi
	((nargs > 0)) && [[ $cmd != validate || ${COMP_WORDS[1]} != export ]] && return
	case $cmd in
	status | agent | show | sessions | trigger | disable | enable)
		_herdctlctl_daemon agents
		;;
	logs)
		_herdctlctl_daemon agents
		_herdctlctl_daemon jobs
		;;
	job)
		_herdctlctl_daemon jobs
		;;
	cancel)
		_herdctlctl_daemon jobs running queued
		;;
	import)
		compopt -o filenames 2>/dev/null
		if declare -F _filedir >/dev/null; then
			_filedir '@(yaml|yml)'
		else
			mapfile -t COMPREPLY < <(
				compgen -f -X '!*.@(yaml|yml)' -- "$cur"
				compgen -d -- "$cur"
			)
		fi
		;;
	validate)
		compopt -o filenames 2>/dev/null
		if declare -F _filedir >/dev/null; then
			_filedir toml
		else
			mapfile -t COMPREPLY < <(
				compgen -f -X '!*.toml' -- "$cur"
				compgen -d -- "$cur"
			)
		fi
		;;
	esac
} &&
	complete -F _herdctlctl herdctlctl
