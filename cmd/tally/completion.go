package main

import (
	"context"
	"fmt"
	"strings"
)

// commandNames are the words that may follow tally.
var commandNames = []string{"count", "top", "cluster", "jobs", "coordinator", "worker", "health", "version", "completion", "help"}

// The completion scripts ask `tally COMMAND --help` for a command's flags
// when a word starting with - is completed, so they never go stale.
const bashCompletion = `# tally completion for bash: source <(tally completion bash)
_tally() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "%[1]s" -- "$cur"))
		return
	fi
	local cmd=${COMP_WORDS[1]}
	if [[ $cmd == jobs && $COMP_CWORD -eq 2 ]]; then
		COMPREPLY=($(compgen -W "list show watch cancel" -- "$cur"))
		return
	fi
	if [[ $cmd == completion ]]; then
		COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null | sed -n 's/^  \(--*[a-z][a-z0-9-]*\).*/\1/p')" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -o filenames -F _tally tally
`

const zshCompletion = `# tally completion for zsh: source <(tally completion zsh)
autoload -U +X bashcompinit && bashcompinit
` + bashCompletion

const fishCompletion = `# tally completion for fish: tally completion fish | source
complete -c tally -f -n __fish_use_subcommand -a "%[1]s"
complete -c tally -f -n "__fish_seen_subcommand_from jobs" -a "list show watch cancel"
complete -c tally -f -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
complete -c tally -n "not __fish_use_subcommand" -a "(tally (commandline -opc)[2] --help 2>/dev/null | string replace -rf '^  (--?[a-z][a-z0-9-]*).*' '\$1')"
complete -c tally -n "not __fish_use_subcommand" -F
`

func runCompletion(_ context.Context, args []string, e env) error {
	if len(args) != 1 {
		return usagef("usage: tally completion bash|zsh|fish")
	}
	words := strings.Join(commandNames, " ")
	switch args[0] {
	case "bash":
		fmt.Fprintf(e.stdout, bashCompletion, words)
	case "zsh":
		fmt.Fprintf(e.stdout, zshCompletion, words)
	case "fish":
		fmt.Fprintf(e.stdout, fishCompletion, words)
	default:
		return usagef("completion %q: want bash, zsh or fish", args[0])
	}
	return nil
}
