# bench_node.sh - sourced by the node benchmarks: starts one headless node
# on a temporary data dir and stops it (by PID) and removes the dir on exit.
#   . bench_node.sh BUILD_DIR    -> sets $mesh (the binary) and $dir
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
dir=$(mktemp -d)
bench_pid=
bench_cleanup() {
    [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null
    rm -rf "$dir"
}
trap bench_cleanup EXIT
"$mesh" --authkey bench --data-dir "$dir" --headless --no-mdns --port 0 \
    --log-file "$dir/log" &
bench_pid=$!
for _ in $(seq 100); do
    "$mesh" --data-dir "$dir" status >/dev/null 2>&1 && break
    sleep 0.05
done
