#!/usr/bin/env bash
# deps.sh [run|test] - install the Debian packages mesh needs (idempotent).
#   run:  what building and running a node needs
#   test: that plus the test tools (clang + libFuzzer, coreutils/PARI oracles,
#         avahi-daemon + dbus for discovery tests, iproute2 for namespaces,
#         the Prometheus text parser for the --metrics tests, and
#         build-essential, dpkg-dev, debhelper and lintian to build and
#         check the .deb)
set -euo pipefail
profile=${1:-run}

build_pkgs=(gcc meson ninja-build pkg-config bash-completion libuv1-dev libsodium-dev libjansson-dev
            libgmp-dev libecm-dev libpari-dev libavahi-client-dev libncurses-dev libraft-dev
            avahi-daemon dbus libzxcvbn0)
test_pkgs=(clang libclang-rt-14-dev python3 coreutils pari-gp tmux iproute2 procps groff-base
           python3-prometheus-client build-essential dpkg-dev debhelper lintian)

pkgs=("${build_pkgs[@]}")
[ "$profile" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(sudo)
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# --no-install-recommends: libnss-mdns (a recommend of avahi) rewrites nsswitch.conf.
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
