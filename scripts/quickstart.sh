#!/usr/bin/env bash
# Set up, then train and evaluate the demo multi-task model on SynthScenes.
# The terminal shows a progress bar per epoch and the results table;
# mmengine's environment and config dumps and its log lines go to the work
# dir's log (WORK_DIR/<timestamp>/<timestamp>.log). --verbose shows them.
# Other arguments go to tools/train.py (e.g. --cfg-options max_epochs=2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
CONFIG=${CONFIG:-configs/synth/hps_r18_ew_synth.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}
VERBOSE=()
TRAIN_ARGS=()
for arg in "$@"; do
    if [ "$arg" = "--verbose" ]; then VERBOSE=(--verbose); else TRAIN_ARGS+=("$arg"); fi
done
rm -rf "$WORK_DIR"
.venv/bin/python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" \
    ${VERBOSE[@]+"${VERBOSE[@]}"} ${TRAIN_ARGS[@]+"${TRAIN_ARGS[@]}"}
CKPT=$(cat "$WORK_DIR/last_checkpoint")
.venv/bin/python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" \
    --out "$WORK_DIR/test_metrics.json" ${VERBOSE[@]+"${VERBOSE[@]}"} 2>&1 \
    | tee "$WORK_DIR/test.log"
.venv/bin/python tools/analysis/quickstart_report.py "$WORK_DIR/test_metrics.json" \
    --config "$CONFIG"
