#!/usr/bin/env bash
# options_documented.sh MESH MANPAGE COMPLETION
# Every command listed by `mesh --help` and every long option printed by
# `mesh --help` and `mesh COMMAND --help` is documented in the man page (node
# options under OPTIONS, a command's options in its own COMMANDS subsection)
# and offered by the bash completion in the right context. The help output
# is the source of truth: add an option to mesh and this fails until the
# docs follow.
set -uo pipefail
mesh=${1:?usage: options_documented.sh MESH MANPAGE COMPLETION}
page=${2:?}
comp=${3:?}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

long_opts() { grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u; }

main_help=$("$mesh" --help) || { echo "mesh --help failed"; exit 1; }
node_opts=$(long_opts <<<"$main_help")
commands=$(sed -n '/^commands/,/^$/s/^  \([a-z][a-z]*\)  .*/\1/p' <<<"$main_help")
[ -n "$node_opts" ] || { echo "no options parsed from mesh --help"; exit 1; }
[ "$(wc -w <<<"$commands")" -ge 7 ] ||
    { echo "cannot parse the commands from mesh --help:"; echo "$main_help"; exit 1; }

# The man page source with troff's \- as plain -, one section per call.
man_text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")
man_section() { # man_section .SH|.SS TITLE-REGEX: lines up to the next .SH/.SS
    awk -v kind="$1" -v re="$2" '
        /^\.S[HS] / { if (on && ($1 == ".SH" || kind == ".SS")) on = 0 }
        $1 == kind && $0 ~ re { on = 1; next }
        on' <<<"$man_text"
}
has_opt() { grep -qE -- "(^|[^a-z0-9-])$1([^a-z0-9-]|\$)"; }

options_section=$(man_section .SH '^\.SH "?OPTIONS"?$')
commands_section=$(man_section .SH '^\.SH "?COMMANDS"?$')
for o in $node_opts; do
    has_opt "$o" <<<"$options_section" || fail "man page OPTIONS lacks $o (mesh --help)"
done

# The completion, driven the way bash drives it.
complete_words() { # complete_words WORD...: what <TAB> offers after WORDs (last = current)
    bash -c '
        source "$1" || exit 1
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _mesh mesh "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
offered() { # offered OPTION WORD...: OPTION is among the completions
    local o=$1
    shift
    local got
    got=$(complete_words "$@") # not piped into grep -q: SIGPIPE under pipefail
    grep -qxF -- "$o" <<<"$got"
}

for o in $node_opts; do
    offered "$o" mesh -- || fail "completion of 'mesh --' lacks $o"
done
for c in $commands; do
    offered "$c" mesh "" || fail "completion of 'mesh ' lacks the command $c"
    offered "$c" mesh --data-dir /tmp "" ||
        fail "completion of 'mesh --data-dir DIR ' lacks the command $c"
    section=$(man_section .SS "^\\.SS \"?mesh $c( |\"|\$)")
    [ -n "$section" ] || fail "man page COMMANDS has no subsection 'mesh $c'"
    cmd_help=$("$mesh" "$c" --help) || { fail "mesh $c --help failed"; continue; }
    cmd_opts=$(long_opts <<<"$cmd_help")
    for o in $cmd_opts; do
        if [ "$o" = --help ]; then # documented once for every command
            has_opt "$o" <<<"$commands_section" || fail "man page COMMANDS lacks --help"
        else
            has_opt "$o" <<<"$section" || fail "man page 'mesh $c' lacks $o (mesh $c --help)"
        fi
        offered "$o" mesh "$c" -- || fail "completion of 'mesh $c --' lacks $o"
        offered "$o" mesh --data-dir /tmp "$c" -- ||
            fail "completion of 'mesh --data-dir DIR $c --' lacks $o"
    done
done

# Option arguments: directories for --data-dir, files for --file and friends.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/state-dir"
: >"$tmp/numbers.txt"
got=$(complete_words mesh --data-dir "$tmp/")
[ "$got" = "$tmp/state-dir" ] || fail "'mesh --data-dir DIR/' offers '$got', not just the directory"
for words in "submit --file" "--authkey-file" "--log-file"; do
    # shellcheck disable=SC2086
    got=$(complete_words mesh $words "$tmp/n")
    [ "$got" = "$tmp/numbers.txt" ] || fail "'mesh $words $tmp/n' offers '$got', not the file"
done
offered - mesh submit --file "" || fail "'mesh submit --file ' does not offer - (stdin)"
offered debug mesh --log-level "" || fail "'mesh --log-level ' does not offer debug"

n_opts=$(wc -w <<<"$node_opts")
if [ "$failures" -ne 0 ]; then
    echo "$failures documentation gaps"
    exit 1
fi
echo "all $(wc -w <<<"$commands") commands and their options, and $n_opts node options, are documented and completed"
