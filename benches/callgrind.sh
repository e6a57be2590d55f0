#!/usr/bin/env bash
# Instruction counts for the targets' ratios: runs benches/instructions.rs under callgrind, one
# process per case, counting only inside its `measured_*` functions. The outputs go to
# $CARGO_TARGET_DIR/callgrind/ (default target/callgrind/), where benches/plot.py reads them.
#
#   bash benches/callgrind.sh            # every step fixture and both rollouts (about 8 minutes on 2 cores)
#   bash benches/callgrind.sh step       # only the step fixtures
#   bash benches/callgrind.sh rollout    # only the rollouts
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=${CARGO_TARGET_DIR:-target}
out="$target/callgrind"
mkdir -p "$out"

exe=$(cargo bench --bench instructions --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -n 1)
[ -x "$exe" ] || { echo "cannot find the instructions bench executable" >&2; exit 1; }

run() {
    local name=$1
    shift
    echo "==> $name: $*"
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_*' \
        --callgrind-out-file="$out/$name.out" "$exe" "$@" 2> "$out/$name.log"
    grep -E 'Collected' "$out/$name.log" || true
}

what=${1:-all}
if [ "$what" = all ] || [ "$what" = step ]; then
    for clusters in 100 1000 10000 100000; do
        for stages in 3 31; do
            for mc in 1 25; do
                run "step-$clusters-$stages-$mc" step "$clusters" "$stages" "$mc"
            done
        done
    done
fi
if [ "$what" = all ] || [ "$what" = rollout ]; then
    run rollout-10k rollout 10000 25
    run rollout-1k rollout 1000 1
fi
