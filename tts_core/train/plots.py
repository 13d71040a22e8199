"""PNG images a person can read: alignments, spectrograms, loss curves (matplotlib, Agg backend)."""
from __future__ import annotations

import pathlib

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_alignment(path: pathlib.Path, alignment: np.ndarray, title: str = "") -> None:
    """alignment (decoder steps, encoder steps)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    im = ax.imshow(alignment.T, aspect="auto", origin="lower", interpolation="none")
    ax.set_xlabel("decoder step")
    ax.set_ylabel("encoder step")
    ax.set_title(title, fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def save_spectrogram(path: pathlib.Path, mel: np.ndarray, title: str = "") -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3))
    im = ax.imshow(mel, aspect="auto", origin="lower", interpolation="none")
    ax.set_title(title, fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def save_curves(path: pathlib.Path, steps: list[int], series: dict[str, list[float]]) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, values in series.items():
        ax.plot(steps[: len(values)], values, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
