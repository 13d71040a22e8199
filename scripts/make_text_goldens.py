#!/usr/bin/env python3
"""Write NVIDIA's symbol ids for plain English sentences (tests/parity/goldens/text_sequences.json), so that CI checks
on every run that our text_to_sequence equals NVIDIA's for plain text, without NVIDIA's code in this repository.

    TTS_NVIDIA_DLE_DIR=/path/to/DeepLearningExamples/PyTorch/SpeechSynthesis/Tacotron2 \\
        python scripts/make_text_goldens.py          # needs NVIDIA's dependencies: inflect

Plain text: words, capitals, accents, apostrophes, hyphens and the punctuation the symbol table has, quotes and
titles NVIDIA expands (Mr., Dr.). Not plain, and read differently on purpose: numbers and every class of
tts_core.text.rules, 'St.' after a name (street), initialisms without a vowel (BBC), repeated punctuation.
"""
from __future__ import annotations

import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SENTENCES = [
    "Printing, in the only sense with which we are at present concerned, differs from most if not from all the arts.",
    "The quick brown fox jumps over the lazy dog.",
    "Is this the right way to the station?",
    "Stop! Don't touch that; it's hot.",
    "She said, \"I'll be there soon.\"",
    "He whispered: \u201cnot yet.\u201d",
    "He said \"no\".",
    "They called it \u201cthe end\u201d.",
    "The well-known author (a former teacher) spoke at length.",
    "Mr. and Mrs. Dursley were perfectly normal, thank you very much.",
    "Dr. Watson had a remarkable memory.",
    "The caf\u00e9 served cr\u00e8me br\u00fbl\u00e9e and na\u00efve jokes.",
    "It was the best of times, it was the worst of times.",
    "Why, then, would anyone leave?",
    "Rock 'n' roll never dies.",
    "Their children's toys were everywhere.",
    "In the beginning there was nothing but darkness and silence.",
    "Turn left at the old church, then keep walking until you reach the river.",
    "What a wonderful world it is!",
    "The committee, after long deliberation, rejected the proposal.",
    "Some say the world will end in fire; some say in ice.",
    "Hello there, general.",
    "A long time ago in a galaxy far, far away.",
    "Where are you going, and when will you be back?",
    "The report was delivered on time: everyone was relieved.",
    "Capt. Smith and Sgt. Jones met Lt. Brown at the fort.",
    "We hold these truths to be self-evident.",
    "To be, or not to be: that is the question.",
    "The Prime Minister arrived in London this morning.",
    "Good morning, Vietnam!",
    "I think, therefore I am.",
    "Ask not what your country can do for you.",
]


def main() -> None:
    dle = os.environ["TTS_NVIDIA_DLE_DIR"]
    sys.path.insert(0, dle)  # NVIDIA's code, for this generator only (never imported by the product or CI)
    from tacotron2.text import text_to_sequence

    out = {s: text_to_sequence(s, ["english_cleaners"]) for s in SENTENCES}
    path = ROOT / "tests/parity/goldens/text_sequences.json"
    path.write_text(json.dumps(out, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} sentences to {path}")


if __name__ == "__main__":
    main()
