#!/usr/bin/env bash
# man_renders.sh MANPAGE - the man page renders without a single warning.
# Uses man(1) when installed, else groff directly (Debian: groff-base).
set -uo pipefail
page=${1:?usage: man_renders.sh MANPAGE}
[ -f "$page" ] || { echo "no man page at $page"; exit 1; }

if command -v man >/dev/null 2>&1; then
    tool="man --warnings -E UTF-8 -l -Tutf8"
    warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "$page" 2>&1 >/dev/null)
    rc=$?
elif command -v groff >/dev/null 2>&1; then
    tool="groff -man -ww -z"
    warnings=$(groff -man -ww -z "$page" 2>&1 >/dev/null)
    rc=$?
else
    echo "neither man nor groff is installed (apt-get install groff-base)"
    exit 77 # meson: skipped
fi
if [ "$rc" -ne 0 ] || [ -n "$warnings" ]; then
    echo "$tool $page: exit $rc"
    echo "$warnings"
    exit 1
fi
# The sections users look for are all there.
for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS OUTPUT FILES ENVIRONMENT \
         "EXIT STATUS" SECURITY EXAMPLES; do
    grep -qE "^\.SH \"?$s\"?\$" "$page" || { echo "section $s missing"; exit 1; }
done
echo "man page renders cleanly with $tool"
