#!/usr/bin/env python
"""Dynamic batching across requests, measured: throughput and latency at several concurrency levels, batched against
not, in one process (the model-owning process, as the web process with the inline backend or a Celery worker).

Without batching the requests run one at a time on one model thread (the service's default); with it, up to
``--max-batch`` run at once and their sentences decode as one batch (``tts_core.batching``). Each level sends
``--requests`` requests per client thread; the levels run interleaved, off then on.

    python scripts/bench_batching.py                       # the bundled voice (Griffin-Lim), concurrency 1 4 8
    python scripts/bench_batching.py --random --vocoder waveglow --device cuda   # full-size random models (GPU)
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from tts_core import HandlerConfig, TacotronHandler  # noqa: E402
from tts_core.hardware import cpu_label  # noqa: E402

# Everyday requests of a voice assistant (not the evaluation sentences); one sentence each, 30-90 characters.
TEXTS = [
    "Your meeting with the design team starts in ten minutes.",
    "The package was delivered to the front door this morning.",
    "Turn left at the next light, then keep right for two miles.",
    "It will be cloudy this afternoon, with a light breeze from the west.",
    "I have set a timer for twenty minutes.",
    "The kitchen lights are now off, and the front door is locked.",
    "Here is the recipe you asked for: it takes about forty minutes.",
    "Your flight to Denver leaves at seven thirty from gate twelve.",
]


def random_checkpoints(folder: pathlib.Path, waveglow: bool) -> tuple[str, str | None]:
    """Full-size Tacotron2 (and WaveGlow) with random weights, as files the handler loads (no downloads here)."""
    from tts_core.models import Tacotron2, Tacotron2Config, WaveGlow, WaveGlowConfig

    torch.manual_seed(0)
    tpath = folder / "tacotron2.pt"
    taco = Tacotron2(Tacotron2Config())
    taco.decoder.gate_layer.linear_layer.bias.data.fill_(-10.0)  # never stops: every sentence runs 200 steps
    torch.save({"state_dict": taco.state_dict()}, tpath)
    if not waveglow:
        return str(tpath), None
    wg = WaveGlow(WaveGlowConfig(), weight_norm=False)
    for wn in wg.WN:
        torch.nn.init.normal_(wn.end.weight, std=0.02)
    wpath = folder / "waveglow.pt"
    torch.save({"state_dict": wg.state_dict()}, wpath)
    return str(tpath), str(wpath)


def level(handler: TacotronHandler, runner: ThreadPoolExecutor, concurrency: int, requests: int, vocoder: str,
          batched: bool) -> dict[str, Any]:
    """``concurrency`` client threads, ``requests`` each, through ``runner``: the service's model thread (one
    thread, unbatched) or its pool of a batch of threads (batched)."""
    latencies: list[float] = []
    audio_seconds = 0.0
    lock = threading.Lock()
    before = (handler.owner.stats.batches, handler.owner.stats.sentences) if batched else (0, 0)

    def client(index: int) -> None:
        nonlocal audio_seconds
        for k in range(requests):
            text = TEXTS[(index * requests + k) % len(TEXTS)]
            start = time.perf_counter()
            result = runner.submit(handler.synthesize, text, vocoder=vocoder).result()
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                audio_seconds += result.duration

    start = time.perf_counter()
    clients = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    row = {"concurrency": concurrency, "batched": batched, "requests": len(latencies), "wall_s": wall,
           "audio_seconds": audio_seconds, "throughput_audio_s_per_s": audio_seconds / wall,
           "latency_p50_s": statistics.median(latencies),
           "latency_p99_s": latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]}
    if batched:
        batches = handler.owner.stats.batches - before[0]
        row["mean_decoder_batch"] = (handler.owner.stats.sentences - before[1]) / max(1, batches)
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--requests", type=int, default=4, help="requests per client thread and level")
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--device")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--vocoder", default="griffinlim", choices=["griffinlim", "waveglow"])
    parser.add_argument("--random", action="store_true", help="full-size random Tacotron2 (and WaveGlow with "
                                                              "--vocoder waveglow), 200 decoder steps per sentence")
    parser.add_argument("--tacotron2")
    parser.add_argument("--waveglow")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("bench-results/batching.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tpath, wpath = args.tacotron2, args.waveglow
        if args.random:
            tpath, wpath = random_checkpoints(pathlib.Path(tmp), args.vocoder == "waveglow")
        base = HandlerConfig(tacotron2_checkpoint=tpath, waveglow_checkpoint=wpath, device=args.device,
                             precision=args.precision, max_decoder_steps=200 if args.random else None)
        model_thread = ThreadPoolExecutor(max_workers=1)  # loads, warms up and runs the plain handler throughout
        plain = model_thread.submit(TacotronHandler(base).initialize).result()
        batched = TacotronHandler(base.replace(dynamic_batch_size=args.max_batch,
                                               dynamic_batch_wait_ms=args.max_wait_ms)).initialize()
        pool = ThreadPoolExecutor(max_workers=args.max_batch)
        results: dict[str, Any] = {
            "device": str(plain.device), "cpu": cpu_label(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "precision": plain.precision, "voice": plain.voice,
            "vocoder": args.vocoder, "max_batch": args.max_batch, "max_wait_ms": args.max_wait_ms, "rows": []}
        for concurrency in args.concurrency:
            for handler, runner, on in ((plain, model_thread, False), (batched, pool, True)):
                results["rows"].append(level(handler, runner, concurrency, args.requests, args.vocoder, on))
    print(f"{results['device']} ({results['cpu']}), torch {results['torch']}, {results['threads']} threads, "
          f"{results['voice']}, {results['precision']}, {results['vocoder']}; max batch {args.max_batch}, "
          f"wait {args.max_wait_ms} ms")
    print(f"{'clients':>7} {'batched':>7} {'audio s/s':>9} {'p50 s':>7} {'p99 s':>7} {'mean batch':>10}")
    for r in results["rows"]:
        print(f"{r['concurrency']:>7} {str(r['batched']):>7} {r['throughput_audio_s_per_s']:>9.2f} "
              f"{r['latency_p50_s']:>7.3f} {r['latency_p99_s']:>7.3f} {r.get('mean_decoder_batch', 1.0):>10.2f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.output}")
    return results


if __name__ == "__main__":
    main()
