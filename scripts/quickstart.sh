#!/usr/bin/env bash
# Set up, then train and evaluate the demo multi-task model on SynthScenes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
CONFIG=${CONFIG:-configs/synth/hps_r18_ew_synth.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}
rm -rf "$WORK_DIR"
.venv/bin/python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
.venv/bin/python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" \
    --out "$WORK_DIR/test_metrics.json" --no-progress 2>&1 \
    | tee "$WORK_DIR/test.log" | { grep -v " - mmengine - " || true; }
.venv/bin/python tools/analysis/quickstart_report.py "$WORK_DIR/test_metrics.json" \
    --config "$CONFIG"
