"""``python -m tts_core.train --config tts_core/train/configs/demo_voice.json`` trains Tacotron2, resuming from
the latest checkpoint in ``out_dir`` when there is one."""
from __future__ import annotations

import argparse

from .config import TrainConfig
from .trainer import Trainer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--out-dir")
    parser.add_argument("--features")
    parser.add_argument("--backup-dir")
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--init-from", help="warm-start from this Tacotron2 checkpoint when there is nothing to "
                                            "resume (e.g. the bundled voice, to train it further)")
    args = parser.parse_args(argv)
    cfg = TrainConfig.load(args.config, max_steps=args.max_steps, out_dir=args.out_dir, features=args.features,
                           backup_dir=args.backup_dir)
    trainer = Trainer(cfg)
    resumed = not args.no_resume and trainer.resume()
    if not resumed and args.init_from:
        trainer.init_from(args.init_from)
    trainer.fit()


if __name__ == "__main__":
    main()
