"""Export a training checkpoint as a small inference checkpoint (the bundled demo voice is made this way).

``python -m tts_core.train.export --checkpoint checkpoints/demo_voice/checkpoint_latest.pt
      --out tts_core/voices/demo/tacotron2_demo.pt --voice "demo (flite slt teacher)"``

Drops the optimizer state and stores float weights in float16 (the loader restores float32), which halves the
file; the result loads with :func:`tts_core.checkpoints.load_tacotron2` like any other checkpoint.
"""
from __future__ import annotations

import argparse
import pathlib

from ..checkpoints import read_training_checkpoint, write_tacotron2


def export(checkpoint: pathlib.Path, out: pathlib.Path, voice: str, max_decoder_steps: int | None = None,
           model_card: pathlib.Path | None = None) -> int:
    """Write the inference checkpoint of ``checkpoint`` to ``out``; returns its size in bytes."""
    ckpt = read_training_checkpoint(checkpoint)
    config = dict(ckpt["config"])
    if max_decoder_steps:
        config["max_decoder_steps"] = max_decoder_steps
    card = model_card.read_text(encoding="utf-8") if model_card and model_card.exists() else None
    return write_tacotron2(out, state_dict=ckpt["state_dict"], config=config, audio_config=ckpt["audio_config"],
                           text_frontend=ckpt["text_frontend"], iteration=ckpt.get("iteration"), half=True,
                           model_card=card, voice=voice)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--voice", default="demo")
    parser.add_argument("--max-decoder-steps", type=int)
    parser.add_argument("--model-card", type=pathlib.Path)
    args = parser.parse_args(argv)
    size = export(args.checkpoint, args.out, args.voice, args.max_decoder_steps, args.model_card)
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
