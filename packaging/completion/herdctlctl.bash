# bash completion for herdctlctl(1)
_herdctlctl() {
	local cur prev words cword
	_init_completion || return
	local commands="status agents agent jobs job trigger cancel logs reload validate help"
	if [[ $cword -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		return
	fi
	local cmd=${words[1]}
	case $prev in
	--agent)
		COMPREPLY=($(compgen -W "$(herdctlctl agents --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p')" -- "$cur"))
		return ;;
	--status)
		COMPREPLY=($(compgen -W "queued running completed failed cancelled timed_out" -- "$cur"))
		return ;;
	--schedule | --prompt | --limit | -n)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		local opts="--json --help"
		case $cmd in
		jobs) opts="--agent --status --limit --json --help" ;;
		trigger) opts="--schedule --prompt --queue --wait -f --json --help" ;;
		logs) opts="-f -n --json --help" ;;
		cancel | reload) opts="--help" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case $cmd in
	agent | trigger | logs)
		COMPREPLY=($(compgen -W "$(herdctlctl agents --json 2>/dev/null | sed -n 's/^    "name": "\(.*\)",$/\1/p')" -- "$cur")) ;;
	job | cancel)
		COMPREPLY=($(compgen -W "$(herdctlctl jobs --json --limit 50 2>/dev/null | sed -n 's/^    "id": "\(.*\)",$/\1/p')" -- "$cur")) ;;
	validate)
		_filedir toml ;;
	esac
} &&
	complete -F _herdctlctl herdctlctl
