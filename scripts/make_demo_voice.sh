#!/usr/bin/env bash
# Reproduce the bundled demo voice from nothing: corpus -> features -> training -> exported checkpoint.
# Resumable: re-running continues from the config's out_dir (checkpoints/demo_voice/ by default).
# Takes hours on a 2-core CPU (see tts_core/voices/demo/MODEL_CARD.md); a GPU shortens it a lot.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
. scripts/lib/debian.sh
ensure_commands flite:flite sox:sox
ensure_files /usr/share/wordnet/data.noun:wordnet-base
ensure_venv requirements-train.txt
PY=.venv/bin/python
EVAL="${EVAL_SENTENCES:-../shared/eval/sentences.txt}"
# CONFIG picks the training stage: the default trains from scratch with 4 frames per decoder step;
# configs/demo_voice_r2.json continues a 4-frame voice with 2 frames per step (gradual training; give it
# INIT_FROM=checkpoints/demo_voice/checkpoint_latest.pt); configs/demo_voice_l1.json fine-tunes that result with an
# L1 + MSE frame loss on docstring + WordNet text (INIT_FROM=checkpoints/demo_voice_r2/checkpoint_latest.pt);
# configs/demo_voice_more.json continues that on 8,000 more WordNet examples (WORDNET_EXTRA=8000,
# INIT_FROM=checkpoints/demo_voice_l1/checkpoint_latest.pt). The model card says which stage the bundled voice is;
# to continue it, move that config's lr_decay_start and max_steps on first. The other configs are trials described
# in the model card.
CONFIG="${CONFIG:-tts_core/train/configs/demo_voice.json}"
# Read through TrainConfig: out_dir may be left to its default, and a bad key fails here as in training.
PATHS=$($PY -c 'import sys; from tts_core.train.config import TrainConfig
c = TrainConfig.load(sys.argv[1]); print(c.out_dir, c.features)' "$CONFIG")
read -r OUT_DIR FEATURES <<< "$PATHS"
# The corpus sits beside its features (data/features_more <- data/corpus_more); WORDNET_EXTRA (WordNet examples
# after the first 4,000, a validation split of their own) must match what the stage was trained on.
CORPUS="$(dirname "$FEATURES")/$(basename "$FEATURES" | sed 's/^features/corpus/')"
# A different count would rewrite the corpus and re-split its wx source (validation sentences into training): refuse.
if [ -f "$CORPUS/metadata.csv" ]; then
    have=$(grep -c '^wavs/wx' "$CORPUS/metadata.csv" || true)
    if [ "$have" != "${WORDNET_EXTRA:-0}" ]; then
        echo "error: $CORPUS holds $have extra WordNet examples; run with WORDNET_EXTRA=$have" >&2
        exit 1
    fi
fi

echo "==> 1/4 corpus: stdlib docstring sentences and WordNet examples spoken by flite (slt)"
exclude=()
[ -f "$EVAL" ] && exclude=(--eval "$EVAL")
# Only missing recordings are synthesized; metadata.csv is rewritten only when the selection changes.
$PY -m tts_core.train.corpus --out "$CORPUS" --wordnet-extra "${WORDNET_EXTRA:-0}" "${exclude[@]}"
if [ ! -f "$FEATURES/features.json" ] || [ "$CORPUS/metadata.csv" -nt "$FEATURES/features.json" ]; then
    echo "==> 2/4 features: 80-band log-mel + ARPAbet symbol ids"
    $PY -m tts_core.train.prepare --metadata "$CORPUS/metadata.csv" --out "$FEATURES" --arpabet
fi
echo "==> 3/4 training (resumes if a checkpoint exists)"
# INIT_FROM=tts_core/voices/demo/tacotron2_demo.pt continues from the bundled voice instead of from scratch.
# STEPS overrides the config's max_steps.
$PY -m tts_core.train --config "$CONFIG" ${STEPS:+--max-steps "$STEPS"} \
    --backup-dir "${BACKUP_DIR:-$HOME/.cache/tacotron_tts/$(basename "$OUT_DIR")}" ${INIT_FROM:+--init-from "$INIT_FROM"}
echo "==> 4/4 export"
$PY -m tts_core.train.export --checkpoint "$OUT_DIR/checkpoint_latest.pt" \
    --out tts_core/voices/demo/tacotron2_demo.pt --voice "demo (flite slt teacher)" \
    --model-card tts_core/voices/demo/MODEL_CARD.md
echo "evaluate with: $PY scripts/evaluate_intelligibility.py"
