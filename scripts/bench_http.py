#!/usr/bin/env python3
"""Service-level benchmark: N synthesis requests at several concurrencies through the running stack (Nginx).

    .venv/bin/python scripts/bench_http.py [--url http://127.0.0.1:8080] [--requests 20] [--concurrency 1 2 4]
        [--async] [--chars 2000]
    .venv/bin/python scripts/bench_http.py --first-audio [--requests 10] [--format mp3]

Prints latency percentiles, throughput, error rate and the share of each request's time spent outside synthesis
(HTTP, proxy, Django, queue, database, file writing): 1 - inference_time / latency, from the API's own timing.
Latency is from the POST to the finished record: with --async (or a synchronous request answered 202 by the
celery backend) the record is polled every 50 ms until it is done. --chars N sends texts of about N characters
(sentences repeated) instead of the short ones. The JSON records the server's synthesis backend. Requests go only
to the given URL (keep it on this machine or your own deployment).

--first-audio measures the time to the first audio byte for a three-sentence paragraph, one request at a time:
streamed (POST /v1/audio/speech, the first body byte) against whole (POST /api/tts/, then the first byte of its
audio file), with each one's time to the last byte. With --wyoming tcp://HOST:PORT it also measures the Wyoming
server the same way (a plain synthesize; and a streaming-text session whose text arrives a few words at a time),
from the request to the first audio-chunk and to audio-stop.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import pathlib
import statistics
import time
import urllib.error
import urllib.request

TEXTS = [
    "The service turns short sentences into speech.",
    "Every request is measured from the client's side.",
    "Latency includes the proxy, the application and the synthesis.",
    "A longer sentence takes a little more time to speak, and a little more time to synthesize.",
]


def long_text(chars: int) -> str:
    """About ``chars`` characters of ordinary sentences (the short texts, repeated)."""
    out: list[str] = []
    while len(" ".join(out)) < chars:
        out.append(TEXTS[len(out) % len(TEXTS)])
    return " ".join(out)[:chars].rsplit(" ", 1)[0] + "."


def _get_json(url: str, headers: dict, timeout: float) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
        return json.loads(resp.read())


def one_request(url: str, text: str, token: str | None, timeout: float, asynchronous: bool = False) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = json.dumps({"text": text, "async": asynchronous}).encode()
    start = time.perf_counter()
    retry_after = None
    try:
        req = urllib.request.Request(f"{url}/api/tts/", data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read())
            status, location = resp.status, resp.headers.get("Location")
        while status == 202 and payload.get("status") in ("queued", "running"):
            if time.perf_counter() - start > timeout:
                status = 0
                break
            time.sleep(0.05)
            payload = _get_json(location, headers, timeout)
        if status == 202:
            status = 201 if payload.get("status") == "done" else 500  # the job ended failed
    except urllib.error.HTTPError as err:
        status, payload, retry_after = err.code, None, err.headers.get("Retry-After")
        err.read()
    except (urllib.error.URLError, OSError):
        status, payload = 0, None
    latency = time.perf_counter() - start
    return {"status": status, "latency": latency, "retry_after": retry_after,
            "inference_time": payload.get("inference_time") if payload else None,
            "uuid": payload.get("uuid") if payload else None}


PARAGRAPH = ("Streaming sends each sentence as soon as it is ready. The listener hears the first one while the "
             "rest are still being made. This is the third sentence.")


def _first_and_last_byte(req: urllib.request.Request, start: float, timeout: float) -> tuple[float, float, int]:
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        first = resp.read(1)
        at_first = time.perf_counter() - start
        size = len(first) + len(resp.read())
    return at_first, time.perf_counter() - start, size


def first_audio(url: str, mode: str, fmt: str, token: str | None, timeout: float) -> dict:
    """One request's (time to first audio byte, time to last byte) from the client's side."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    start = time.perf_counter()
    if mode == "stream":
        body = {"model": "tts-1", "voice": "alloy", "input": PARAGRAPH, "response_format": fmt}
        req = urllib.request.Request(f"{url}/v1/audio/speech", json.dumps(body).encode(), headers, method="POST")
        first, last, size = _first_and_last_byte(req, start, timeout)
    else:
        body = {"text": PARAGRAPH, "format": fmt if fmt != "pcm" else "wav"}
        req = urllib.request.Request(f"{url}/api/tts/", json.dumps(body).encode(), headers, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            record = json.loads(resp.read())
        first, last, size = _first_and_last_byte(urllib.request.Request(record["audio_url"], headers=headers),
                                                 start, timeout)
    return {"mode": mode, "first_audio_s": first, "last_byte_s": last, "bytes": size}


def wyoming_first_audio(uri: str, mode: str, timeout: float) -> dict:
    """One Wyoming request's (time to the first audio-chunk, time to audio-stop), as Home Assistant sends it."""
    import asyncio

    from wyoming.audio import AudioChunk, AudioStop
    from wyoming.client import AsyncClient
    from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

    async def go() -> dict:
        client = AsyncClient.from_uri(uri)
        await client.connect()
        try:
            start = time.perf_counter()
            if mode == "wyoming":
                await client.write_event(Synthesize(text=PARAGRAPH).event())
            else:  # an LLM's reply: a few words per event
                await client.write_event(SynthesizeStart().event())
                words = PARAGRAPH.split(" ")
                for i in range(0, len(words), 3):
                    await client.write_event(SynthesizeChunk(text=" ".join(words[i:i + 3]) + " ").event())
                await client.write_event(SynthesizeStop().event())
            first, size = None, 0
            while True:
                event = await asyncio.wait_for(client.read_event(), timeout)
                if event is None:
                    raise RuntimeError("the Wyoming server closed the connection")
                if AudioChunk.is_type(event.type):
                    first = first or time.perf_counter() - start
                    size += len(AudioChunk.from_event(event).audio)
                elif AudioStop.is_type(event.type):
                    return {"mode": mode, "first_audio_s": first or 0.0, "last_byte_s": time.perf_counter() - start,
                            "bytes": size}
        finally:
            await client.disconnect()

    return asyncio.run(go())


def run_first_audio(url: str, n: int, fmt: str, token: str | None, timeout: float,
                    wyoming: str | None = None) -> list[dict]:
    def measure(mode: str) -> dict:
        if mode.startswith("wyoming"):
            return wyoming_first_audio(wyoming, mode, timeout)
        return first_audio(url, mode, fmt, token, timeout)

    runs = {"stream": [], "whole": [], **({"wyoming": [], "wyoming-stream": []} if wyoming else {})}
    for mode in runs:  # warm every path once
        measure(mode)
    for _ in range(n):  # interleaved, so that all see the same machine
        for mode in runs:
            runs[mode].append(measure(mode))
    out = []
    for mode, results in runs.items():
        firsts, lasts = [r["first_audio_s"] for r in results], [r["last_byte_s"] for r in results]
        out.append({"mode": mode, "format": "pcm" if mode.startswith("wyoming") else fmt, "requests": n, "text_chars": len(PARAGRAPH),
                    "first_audio_p50_s": percentile(firsts, 50), "first_audio_p90_s": percentile(firsts, 90),
                    "last_byte_p50_s": percentile(lasts, 50), "last_byte_p90_s": percentile(lasts, 90)})
    return out


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_level(url: str, n: int, concurrency: int, token: str | None, timeout: float, asynchronous: bool = False,
              texts: list[str] = TEXTS) -> dict:
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda i: one_request(url, texts[i % len(texts)], token, timeout, asynchronous),
                                range(n)))
    wall = time.perf_counter() - start
    ok = [r for r in results if r["status"] == 201]
    lat = [r["latency"] for r in ok]
    outside = [1 - r["inference_time"] / r["latency"] for r in ok if r["inference_time"] is not None]
    # the same in milliseconds, median: robust to the odd slow synthesis, which swings the mean share
    outside_ms = [1000 * (r["latency"] - r["inference_time"]) for r in ok if r["inference_time"] is not None]
    return {
        "concurrency": concurrency, "requests": n, "async": asynchronous,
        "text_chars": round(statistics.fmean(len(t) for t in texts)), "ok": len(ok), "error_rate": 1 - len(ok) / n if n else 0.0,
        "statuses": sorted({r["status"] for r in results}),
        "status_counts": {str(code): sum(r["status"] == code for r in results)
                          for code in sorted({r["status"] for r in results})},
        # every answer that was not a success says when to retry (429, 503)
        "retry_after_missing": sum(r["status"] in (429, 503) and not r["retry_after"] for r in results),
        "throughput_rps": len(ok) / wall if wall else 0.0,
        "latency_mean_s": statistics.fmean(lat) if lat else float("nan"),
        "latency_p50_s": percentile(lat, 50), "latency_p90_s": percentile(lat, 90),
        "latency_p99_s": percentile(lat, 99),
        "outside_synthesis_share": statistics.fmean(outside) if outside else float("nan"),
        "outside_synthesis_ms_p50": statistics.median(outside_ms) if outside_ms else float("nan"),
        "uuids": [r["uuid"] for r in ok],
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--token", help="API token (needed for --cleanup and if anonymous synthesis is off)")
    parser.add_argument("--cleanup", action="store_true", help="delete the created records afterwards")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", type=pathlib.Path)
    parser.add_argument("--async", dest="asynchronous", action="store_true",
                        help="POST with async: true and poll each job to done")
    parser.add_argument("--chars", type=int, help="texts of about this many characters")
    parser.add_argument("--first-audio", action="store_true",
                        help="time to the first audio byte, streamed (/v1/audio/speech) against whole (/api/tts/)")
    parser.add_argument("--format", default="mp3", help="--first-audio: the audio format (default mp3)")
    parser.add_argument("--wyoming", metavar="URI", help="--first-audio: also the Wyoming server at this URI")
    args = parser.parse_args(argv)

    url = args.url.rstrip("/")
    try:
        backend = _get_json(f"{url}/api/health/ready/", {}, 10).get("backend", "?")
    except (urllib.error.URLError, OSError, ValueError):
        backend = "?"
    if args.first_audio:
        levels = run_first_audio(url, args.requests, args.format, args.token, args.timeout, args.wyoming)
        for lv in levels:
            lv["backend"] = backend
        print(f"backend: {backend}; time to first audio byte, {levels[0]['text_chars']}-character paragraph, "
              f"{args.format}, {args.requests} requests each")
        print(f"{'mode':>14} {'first p50':>10} {'first p90':>10} {'last p50':>9} {'last p90':>9}")
        for lv in levels:
            print(f"{lv['mode']:>14} {lv['first_audio_p50_s']:>9.3f}s {lv['first_audio_p90_s']:>9.3f}s "
                  f"{lv['last_byte_p50_s']:>8.3f}s {lv['last_byte_p90_s']:>8.3f}s")
        if args.json:
            args.json.write_text(json.dumps(levels, indent=2))
        return levels
    texts = [long_text(args.chars)] if args.chars else TEXTS
    levels = [run_level(url, args.requests, c, args.token, args.timeout, args.asynchronous, texts)
              for c in args.concurrency]
    for lv in levels:
        lv["backend"] = backend
    print(f"backend: {backend}, {'async + polling' if args.asynchronous else 'synchronous'}, "
          f"texts of ~{levels[0]['text_chars'] if levels else 0} characters")
    print(f"{'conc':>4} {'ok':>5} {'err%':>5} {'req/s':>7} {'mean s':>7} {'p50':>7} {'p90':>7} {'p99':>7} "
          f"{'outside synth':>13} {'(p50 ms)':>8}  statuses")
    for lv in levels:
        print(f"{lv['concurrency']:>4} {lv['ok']:>5} {100 * lv['error_rate']:>5.1f} {lv['throughput_rps']:>7.2f} "
              f"{lv['latency_mean_s']:>7.3f} {lv['latency_p50_s']:>7.3f} {lv['latency_p90_s']:>7.3f} "
              f"{lv['latency_p99_s']:>7.3f} {100 * lv['outside_synthesis_share']:>12.1f}% {lv['outside_synthesis_ms_p50']:>8.1f}  "
              f"{lv['status_counts']}")
    if args.cleanup and args.token:
        for lv in levels:
            for uuid in lv["uuids"]:
                req = urllib.request.Request(f"{url}/api/tts/{uuid}/", method="DELETE",
                                             headers={"Authorization": f"Token {args.token}"})
                try:
                    urllib.request.urlopen(req, timeout=30).close()
                except urllib.error.URLError:
                    pass
    if args.json:
        args.json.write_text(json.dumps(levels, indent=2))
    return levels


if __name__ == "__main__":
    main()
