"""The Tacotron2 training loop: resumable, with readable logs (metrics.jsonl, PNG curves/alignments, GL audio)."""
from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import shutil
import signal
import time
from typing import Any

import torch

from ..audio import TacotronSTFT, griffin_lim, to_pcm16, write_wav
from ..checkpoints import read_tacotron2, read_training_checkpoint, write_tacotron2
from ..models import AudioConfig, Tacotron2
from ..precision import training_uses_bf16
from . import plots
from .config import TrainConfig
from .data import BucketBatchSampler, Utterance, collate, load_split
from .loss import tacotron2_loss
from .reduction import change_reduction_factor


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        self.out = pathlib.Path(cfg.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        features = pathlib.Path(cfg.features)
        meta = json.loads((features / "features.json").read_text())
        self.text_frontend = "arpabet" if meta.get("arpabet") else "characters"
        self.audio_cfg = AudioConfig(**meta["audio"])
        self.train_set = load_split(features, "train")
        self.val_set = load_split(features, "val")
        self.model = Tacotron2(cfg.model_config())
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.learning_rate,
                                          weight_decay=cfg.weight_decay)
        self.bf16 = training_uses_bf16(cfg.bf16)
        print(f"training precision: {'bf16 autocast' if self.bf16 else 'fp32'}", flush=True)
        self.step = 0
        self.history: list[dict[str, float]] = []
        self._stop = False

    # ------------------------------------------------------------------------------------------ checkpoints
    @property
    def latest(self) -> pathlib.Path:
        return self.out / "checkpoint_latest.pt"

    def resume(self) -> bool:
        candidates = [self.latest]
        if self.cfg.backup_dir:
            candidates.append(pathlib.Path(self.cfg.backup_dir) / self.latest.name)
        existing = [p for p in candidates if p.exists()]
        if not existing:
            return False
        # Each file is read once; the newer of the work-tree and backup copies wins.
        ckpt, path = max(((read_training_checkpoint(p), p) for p in existing),
                         key=lambda loaded: loaded[0]["iteration"])
        self.model.load_state_dict(ckpt["state_dict"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step = int(ckpt["iteration"])
        metrics = self.out / "metrics.jsonl"
        if metrics.exists():
            self.history = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
            self.history = [h for h in self.history if h["step"] <= self.step]
        print(f"resumed from {path} at step {self.step}", flush=True)
        return True

    def init_from(self, path: str | pathlib.Path) -> None:
        """Warm start: take the weights (and step count, for the learning-rate schedule) of any Tacotron2
        checkpoint the loaders read, e.g. the exported bundled voice; the optimizer starts fresh.

        A checkpoint with another number of frames per step is carried over (:mod:`.reduction`); any other
        difference in the network is an error."""
        loaded = read_tacotron2(path)
        theirs, ours = loaded.model.state_dict(), self.model.state_dict()
        old_r, new_r = loaded.model.n_frames_per_step, self.model.n_frames_per_step
        theirs = change_reduction_factor(theirs, loaded.model.cfg.n_mel_channels, old_r, new_r)
        if {k: v.shape for k, v in theirs.items()} != {k: v.shape for k, v in ours.items()}:
            raise ValueError(f"{path} has a different model configuration than this training run")
        self.model.load_state_dict(theirs)
        self.step = int(loaded.metadata.get("iteration") or 0)
        changed = f", {old_r} -> {new_r} frames per step" if old_r != new_r else ""
        print(f"initialized from {path} (step {self.step}{changed})", flush=True)

    def save(self) -> None:
        write_tacotron2(self.latest, state_dict=self.model.state_dict(), config=self.model.cfg,
                        audio_config=self.audio_cfg, text_frontend=self.text_frontend, iteration=self.step,
                        optimizer=self.optimizer.state_dict(), train_config=dataclasses.asdict(self.cfg))
        if self.cfg.keep_every and self.step % self.cfg.keep_every == 0:
            shutil.copyfile(self.latest, self.out / f"checkpoint_{self.step}.pt")
        if self.cfg.backup_dir:
            backup = pathlib.Path(self.cfg.backup_dir)
            backup.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.latest, backup / self.latest.name)

    # ------------------------------------------------------------------------------------------ loop
    def _autocast(self) -> Any:
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    def train_step(self, batch_items: list[Utterance]) -> dict[str, float]:
        cfg = self.cfg
        self.model.train()
        r = self.model.n_frames_per_step
        batch = collate(batch_items, r)
        lr = cfg.learning_rate_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        use_attention = cfg.guided_attention_until is None or self.step < cfg.guided_attention_until
        with self._autocast():
            out = self.model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
        out = type(out)(*(t.float() if t.is_floating_point() else t for t in out))
        terms = tacotron2_loss(out, batch, r, cfg.gate_pos_weight,
                               cfg.guided_attention_weight if use_attention else 0.0, cfg.guided_attention_g,
                               cfg.mel_loss)
        self.optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        if not math.isfinite(float(grad_norm)):
            self.optimizer.zero_grad(set_to_none=True)  # skip a step that would poison the weights
        else:
            self.optimizer.step()
        self.step += 1
        return {"loss": float(terms.total.detach()), "mel": float(terms.mel), "postnet": float(terms.postnet),
                "gate": float(terms.gate), "attention": float(terms.attention), "grad_norm": float(grad_norm),
                "lr": lr}

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Teacher-forced validation losses. The prenet's dropout stays on here too (as at inference), so its
        draws come from a fixed seed: every checkpoint is scored on the same masks, and the training run's own
        random stream is left where it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.cfg.seed)
            return self._validate()

    def _validate(self) -> dict[str, float]:
        self.model.eval()
        r = self.model.n_frames_per_step
        totals: dict[str, float] = {"val_loss": 0.0, "val_postnet": 0.0}
        n = 0
        for i in range(0, len(self.val_set), self.cfg.batch_size):
            items = self.val_set[i: i + self.cfg.batch_size]
            batch = collate(items, r)
            out = self.model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
            terms = tacotron2_loss(out, batch, r, self.cfg.gate_pos_weight, 0.0)
            totals["val_loss"] += float(terms.total) * len(items)
            totals["val_postnet"] += float(terms.postnet) * len(items)
            n += len(items)
        return {k: v / max(n, 1) for k, v in totals.items()}

    @torch.no_grad()
    def preview(self, n: int = 2) -> dict[str, float]:
        """Free-running synthesis of validation sentences: alignment/mel PNGs and Griffin-Lim WAVs."""
        self.model.eval()
        folder = self.out / "previews" / f"step_{self.step:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        stft = TacotronSTFT(self.audio_cfg)
        truncated = 0
        for u in self.val_set[:n]:
            ids = torch.tensor([u.ids])
            out = self.model.infer_full(ids, torch.tensor([len(u.ids)]))
            truncated += int(out.truncated[0])
            frames = int(out.mel_lengths[0]) or out.mel_outputs_postnet.size(2)
            mel = out.mel_outputs_postnet[:, :, :frames]
            plots.save_alignment(folder / f"{u.name}_alignment.png", out.alignments[0].numpy(),
                                 f"{u.name} step {self.step}")
            plots.save_spectrogram(folder / f"{u.name}_mel.png", mel[0].numpy(), f"{u.name} step {self.step}")
            audio = griffin_lim(mel, stft, self.cfg.griffin_lim_iters)
            write_wav(str(folder / f"{u.name}.wav"), to_pcm16(audio[0]), self.audio_cfg.sampling_rate)
        return {"preview_truncated": truncated}

    def _log(self, row: dict[str, float]) -> None:
        self.history.append(row)
        with open(self.out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(row) + "\n")
        steps = [h["step"] for h in self.history if "val_loss" in h]
        if steps:
            evals = [h for h in self.history if "val_loss" in h]
            plots.save_curves(self.out / "loss.png", steps, {
                "train loss": [h["loss"] for h in evals], "val loss": [h["val_loss"] for h in evals],
                "val postnet mse": [h["val_postnet"] for h in evals]})

    def _handle_signal(self, signum: int, frame: Any) -> None:
        self._stop = True

    def fit(self) -> None:
        from tqdm import tqdm

        cfg = self.cfg
        signal.signal(signal.SIGTERM, self._handle_signal)
        signal.signal(signal.SIGINT, self._handle_signal)
        sampler = iter(BucketBatchSampler([u.mel.shape[1] for u in self.train_set], cfg.batch_size,
                                          cfg.seed + self.step))
        bar = tqdm(total=cfg.max_steps, initial=self.step, dynamic_ncols=True, mininterval=5)
        running: dict[str, float] = {}
        started = time.time()
        while self.step < cfg.max_steps and not self._stop:
            stats = self.train_step([self.train_set[i] for i in next(sampler)])
            running = {k: 0.9 * running.get(k, v) + 0.1 * v for k, v in stats.items()}
            bar.update(1)
            bar.set_postfix(loss=f"{running['loss']:.3f}", att=f"{running['attention']:.3f}",
                            gate=f"{running['gate']:.3f}")
            if self.step % cfg.checkpoint_every == 0:
                self.save()
            if self.step % cfg.eval_every == 0:
                row = {"step": self.step, **running, **self.validate(), **self.preview(),
                       "elapsed_s": time.time() - started}
                self._log(row)
                bar.write(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        self.save()
        bar.close()
        print(f"stopped at step {self.step}; latest checkpoint {self.latest}", flush=True)
