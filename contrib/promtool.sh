#!/usr/bin/env bash
# promtool.sh - prints the path of a promtool for the --metrics tests,
# fetching it from Debian's prometheus package the first time.
#
# Debian ships promtool only inside `prometheus`, a full server with a
# service that would start on install. The tests need the checker alone,
# so the package is downloaded and unpacked into a cache directory, never
# installed: nothing runs, nothing is enabled, the system is unchanged.
# Prints nothing and exits 1 if it cannot (the test then reports a skip).
set -uo pipefail
if command -v promtool >/dev/null; then
    command -v promtool
    exit 0
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mesh
tool=$cache/prometheus/usr/bin/promtool
if [ ! -x "$tool" ]; then
    mkdir -p "$cache" || exit 1
    work=$(mktemp -d) || exit 1
    trap 'rm -rf "$work"' EXIT
    ( cd "$work" && apt-get download prometheus >/dev/null 2>&1 ) ||
        { apt-get update -qq >/dev/null 2>&1 &&
          ( cd "$work" && apt-get download prometheus >/dev/null 2>&1 ); } || exit 1
    rm -rf "$cache/prometheus"
    dpkg-deb -x "$work"/prometheus_*.deb "$cache/prometheus" || exit 1
fi
"$tool" --version >/dev/null 2>&1 || exit 1
echo "$tool"
