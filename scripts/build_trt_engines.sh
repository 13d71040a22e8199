#!/usr/bin/env bash
# Build TensorRT engines from the ONNX graphs on a GPU host with TensorRT's trtexec (not runnable here: no GPU).
#   .venv/bin/python -m tts_core.onnx_export --tacotron2 T.pt --waveglow W.pt --out onnx/
#   ./scripts/build_trt_engines.sh onnx/ engines/
# Shape ranges: text up to MAX_TEXT symbols, WaveGlow up to MAX_FRAMES mel frames (hop 256, groups of 8).
set -euo pipefail
SRC="${1:-onnx}"
OUT="${2:-engines}"
MAX_TEXT="${MAX_TEXT:-256}"
MAX_FRAMES="${MAX_FRAMES:-1000}"
PRECISION="${PRECISION:---fp16}"   # the invertible 1x1 convolutions are small; fp16 is faithful enough there
command -v trtexec >/dev/null || { echo "trtexec not found (TensorRT)" >&2; exit 1; }
mkdir -p "$OUT"

trtexec --onnx="$SRC/encoder.onnx" --saveEngine="$OUT/encoder.plan" $PRECISION \
    --minShapes=sequences:1x4 --optShapes=sequences:1x128 --maxShapes=sequences:1x"$MAX_TEXT"

text_shapes() {  # every decoder input whose second axis is the text length
    local n="$1"
    echo "memory:1x${n}x512,processed_memory:1x${n}x128,mask:1x${n},attention_weights:1x${n},attention_weights_cum:1x${n}"
}
fixed="decoder_input:1x80,attention_hidden:1x1024,attention_cell:1x1024,decoder_hidden:1x1024,decoder_cell:1x1024,attention_context:1x512,prenet_mask_1:1x256,prenet_mask_2:1x256"
trtexec --onnx="$SRC/decoder_iter.onnx" --saveEngine="$OUT/decoder_iter.plan" $PRECISION \
    --minShapes="$fixed,$(text_shapes 4)" --optShapes="$fixed,$(text_shapes 128)" \
    --maxShapes="$fixed,$(text_shapes "$MAX_TEXT")"

trtexec --onnx="$SRC/postnet.onnx" --saveEngine="$OUT/postnet.plan" $PRECISION \
    --minShapes=mel:1x80x4 --optShapes=mel:1x80x400 --maxShapes=mel:1x80x"$MAX_FRAMES"

trtexec --onnx="$SRC/waveglow.onnx" --saveEngine="$OUT/waveglow.plan" $PRECISION \
    --minShapes=mel:1x80x4,z:1x8x128 --optShapes=mel:1x80x400,z:1x8x12800 \
    --maxShapes=mel:1x80x"$MAX_FRAMES",z:1x8x$((MAX_FRAMES * 32))
echo "engines in $OUT (sizes assume NVIDIA's full-size models)"
