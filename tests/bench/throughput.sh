#!/usr/bin/env bash
# throughput.sh [BUILD_DIR] - one node, trivial numbers, the two job-server
# figures of the Python managers reference (DESIGN.md, same machine kind):
#   200,000 numbers in chunks of 43  (reference  98k numbers/s)
#    20,000 numbers in chunks of 1   (reference 6.1k jobs/s)
# Time is from `mesh submit` until `mesh results --wait` printed every line.
set -euo pipefail
. "$(dirname "$0")/bench_node.sh" "${1:-}"
run() { # run COUNT CHUNK -> prints seconds
    local t0 t1 b
    t0=$(date +%s%N)
    b=$("$mesh" --data-dir "$dir" submit --start 1 --count "$1" --chunk "$2")
    [ "$("$mesh" --data-dir "$dir" results "$b" --wait | wc -l)" -eq "$1" ]
    t1=$(date +%s%N)
    echo "$t0 $t1" | awk '{printf "%.3f", ($2-$1)/1e9}'
}
s=$(run 200000 43)
echo "200000 numbers, chunks of 43: ${s}s = $(awk "BEGIN{printf \"%.0f\", 200000/$s}") numbers/s (reference 98k)"
s=$(run 20000 1)
echo " 20000 numbers, chunks of 1:  ${s}s = $(awk "BEGIN{printf \"%.0f\", 20000/$s}") jobs/s (reference 6.1k)"
