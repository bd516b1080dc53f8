#!/usr/bin/env bash
# tasks_train.sh trains every task on both cells with its recipe (degen tasks)
# and prints, per task and cell, how many networks converged, the steps they
# took (min, median, max over the converged ones), the final training MSE
# (median over all) and the wall time: the table of bench/RESULTS.md, "Every
# task trains".
#
#   bash bench/tasks_train.sh                     # the defaults: 8 networks of H=32
#   SEEDS=10 ARGS="--hidden 128 --batch 64 --steps-per-epoch 128 --max-epochs 1000" \
#     bash bench/tasks_train.sh                   # the reference study's settings
#
# Environment: SEEDS (default 8), ARGS (more train flags, default none), TASKS
# (default "flipflop sine delayed pathint"), CELLS (default "vanilla rate"),
# OUT (run directories, default a temporary directory removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-8}
ARGS=${ARGS:-}
TASKS=${TASKS:-flipflop sine delayed pathint}
CELLS=${CELLS:-vanilla rate}
go build -o bench/.degen-tasks ./cmd/degen
trap 'rm -f bench/.degen-tasks' EXIT
out=${OUT:-}
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -f bench/.degen-tasks; rm -rf "$out"' EXIT
fi
echo "| task | cell | converged | steps (min / median / max) | final MSE (median) | threshold | wall s |"
echo "|---|---|---|---|---|---|---|"
for task in $TASKS; do
	for cell in $CELLS; do
		dir="$out/$task-$cell"
		start=$(date +%s.%N)
		# shellcheck disable=SC2086
		bench/.degen-tasks train --task "$task" --cell "$cell" --seeds "$SEEDS" $ARGS --out "$dir" --force --quiet >/dev/null
		end=$(date +%s.%N)
		python3 - "$dir/run.json" "$task" "$cell" "$(echo "$end - $start" | bc)" <<'PY'
import json, sys
path, task, cell, secs = sys.argv[1:]
r = json.load(open(path))
nets = r["networks"]
steps = sorted(n["steps"] for n in nets if n["converged"])
loss = sorted(n["final_loss"] if n["final_loss"] is not None else float("inf") for n in nets)
st = f"{steps[0]} / {steps[len(steps)//2]} / {steps[-1]}" if steps else "-"
print(f"| {task} | {cell} | {len(steps)}/{len(nets)} | {st} | {loss[len(loss)//2]:.3g} | {r['threshold']:g} | {float(secs):.0f} |")
PY
	done
done
