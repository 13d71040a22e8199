#!/usr/bin/env python3
"""Download NVIDIA's published Tacotron2 and WaveGlow checkpoints (the NGC files that DeepLearningExamples'
torch.hub entry points use), verify that they load, and print the environment variables to set.

    .venv/bin/python scripts/download_weights.py [--precision fp32|fp16] [--dest models]
"""
from __future__ import annotations

import argparse
import http.client
import os
import pathlib
import shutil
import sys
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent

NGC = "https://api.ngc.nvidia.com/v2/models/nvidia"
CHECKPOINTS = {
    "fp32": {
        "tacotron2": f"{NGC}/tacotron2_pyt_ckpt_fp32/versions/19.09.0/files/nvidia_tacotron2pyt_fp32_20190427",
        "waveglow": f"{NGC}/waveglow_ckpt_fp32/versions/19.09.0/files/nvidia_waveglowpyt_fp32_20190427",
    },
    "fp16": {
        "tacotron2": f"{NGC}/tacotron2_pyt_ckpt_amp/versions/19.09.0/files/nvidia_tacotron2pyt_fp16_20190427",
        "waveglow": f"{NGC}/waveglow_ckpt_amp/versions/19.09.0/files/nvidia_waveglowpyt_fp16_20190427",
    },
}


class DownloadError(RuntimeError):
    pass


def download(url: str, dest: pathlib.Path, timeout: float = 60) -> pathlib.Path:
    """Fetch ``url`` to ``dest`` atomically (``.part`` then rename); skip when the file is already there."""
    if dest.exists() and dest.stat().st_size > 0:
        print(f"  {dest.name}: already present")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as fh:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
                done += len(chunk)
                if total:
                    print(f"\r  {dest.name}: {done / 1e6:.0f}/{total / 1e6:.0f} MB", end="", flush=True)
        print()
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:  # HTTPException: IncompleteRead
        part.unlink(missing_ok=True)
        raise DownloadError(f"could not download {url}: {exc}. Are you offline? Copy the file by hand to {dest} "
                            "or use the bundled demo voice (leave TTS_TACOTRON2_CHECKPOINT unset).") from exc
    if total and done != total:  # a connection closed early ends the read loop like the end of the file does
        part.unlink(missing_ok=True)
        raise DownloadError(f"the download of {url} stopped after {done} of {total} bytes; run this again, or copy "
                            f"the file by hand to {dest}")
    os.replace(part, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", choices=sorted(CHECKPOINTS), default="fp32")
    parser.add_argument("--dest", type=pathlib.Path, default=ROOT / "models")
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args(argv)

    from tts_core.checkpoints import CheckpointError, load_tacotron2, load_waveglow

    urls = CHECKPOINTS[args.precision]
    paths = {}
    try:
        for name, url in urls.items():
            paths[name] = download(url, args.dest / f"nvidia_{name}_{args.precision}.pt")
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.no_verify:
        try:
            taco = load_tacotron2(paths["tacotron2"])
            wg = load_waveglow(paths["waveglow"])
        except CheckpointError as exc:
            print(f"error: downloaded file does not load: {exc}", file=sys.stderr)
            return 3
        print(f"verified: Tacotron2 {sum(p.numel() for p in taco.parameters()) / 1e6:.1f}M parameters, "
              f"WaveGlow {wg.cfg.wn_n_channels} channels")
    print("\nSet these (in .env for Docker, or your shell):")
    print(f"TTS_TACOTRON2_CHECKPOINT={paths['tacotron2'].resolve()}")
    print(f"TTS_WAVEGLOW_CHECKPOINT={paths['waveglow'].resolve()}")
    if shutil.which("nvidia-smi"):
        print("TTS_FP16=1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
