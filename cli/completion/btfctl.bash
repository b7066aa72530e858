# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for btfctl
_btfctl() {
	local cur prev words cword
	_init_completion || return
	local commands="get list prefetch refresh status version stats gc verify minimize check gen import transparent mirror host help"
	local globals="--json -j --pretty -p --quiet -q --socket --version -V --help -h"
	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
			--socket) ((i++)) ;;
			-*) ;;
			*) cmd=${words[i]}; break ;;
		esac
	done
	case $prev in
		--socket) _filedir; return ;;
		--object|-o|--output|--host-root|--config) _filedir; return ;;
		--from) _filedir -d; return ;;
		--html) _filedir; return ;;
		--compat) COMPREPLY=($(compgen -W "cilium-ebpf-0.9 5.0 5.2 5.6 5.13 5.16 5.17 6.0 6.15" -- "$cur")); return ;;
	esac
	case $cmd in
		"") COMPREPLY=($(compgen -W "$commands $globals" -- "$cur")) ;;
		get) COMPREPLY=($(compgen -W "--distro --distro-version --arch --release --object -o --output --refresh --compat --json --quiet --help" -- "$cur")) ;;
		prefetch) COMPREPLY=($(compgen -W "--distro --distro-version --arch --release --no-pin --json --quiet --help" -- "$cur")) ;;
		stats) COMPREPLY=($(compgen -W "--prometheus --json --quiet --help" -- "$cur")) ;;
		list|status|version|refresh|gc|verify) COMPREPLY=($(compgen -W "--json --quiet --help" -- "$cur")) ;;
		minimize) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "-o --output --report --compat --json --quiet --help" -- "$cur")) || _filedir ;;
		gen) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--from --distro --distro-version --version --arch --release-glob -o --bundle --replace -j --jobs --json" -- "$cur")) || _filedir ;;
		import) _filedir ;;
		check) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--from --distro --distro-version --version --arch --release-glob --html -j --jobs --json" -- "$cur")) || _filedir ;;
		transparent) COMPREPLY=($(compgen -W "install remove status --release --all --if-enabled --config --json" -- "$cur")) ;;
		host) COMPREPLY=($(compgen -W "--host-root --config --json --quiet --help" -- "$cur")) ;;
		mirror) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--distro --distro-version --version --arch --release-glob --json" -- "$cur")) || { [[ $prev == mirror ]] && COMPREPLY=($(compgen -W "sync export" -- "$cur")) || _filedir -d; } ;;
		help) COMPREPLY=($(compgen -W "$commands --help" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
	esac
}
complete -F _btfctl btfctl
