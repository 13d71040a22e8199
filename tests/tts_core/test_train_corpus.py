"""Corpus text selection (docstrings, WordNet examples, evaluation exclusion) and the per-source split."""
import json

import numpy as np

from tts_core.audio import to_pcm16, write_wav
from tts_core.train.corpus import docstring_sentences, exclude_evaluation, select_utterances, wordnet_sentences
from tts_core.train.prepare import prepare

LEXICON = {w: "" for w in "the a cat sat on mat did you see it dog ran home we went to park is this your".split()}

WORDNET_HEADER = "  1 This software and database is being provided to you, the LICENSEE, by Princeton University\n"


def _wordnet(tmp_path, noun_lines, other=""):
    for pos in ("noun", "verb", "adj", "adv"):
        body = noun_lines if pos == "noun" else other
        (tmp_path / f"data.{pos}").write_text(WORDNET_HEADER + body, encoding="latin-1")
    return tmp_path


def test_wordnet_examples_become_clean_sentences(tmp_path):
    lines = (
        '00001 03 n 01 cat 0 000 | a small animal; "the cat sat on the mat"; "did you see the cat?"\n'
        '00002 03 n 01 dog 0 000 | an animal; "the dog ran home"; "the dog ran home"; "dog"\n'
        '00003 03 n 01 zebra 0 000 | striped; "the zebra sat on the mat"; "we went to the x park"\n'
        '00004 03 n 01 park 0 000 | no examples here\n'
    )
    sentences = wordnet_sentences(_wordnet(tmp_path, lines, '00005 03 v 01 go 0 | "we went to the park"\n'), LEXICON)
    # capitalised, a full stop added unless it ends in punctuation; duplicates, one-word examples, words outside
    # the lexicon and one-letter words dropped; the licence header never read as data
    assert sentences == ["The cat sat on the mat.", "Did you see the cat?", "The dog ran home.",
                         "We went to the park."]


def test_wordnet_needs_its_data_files(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        wordnet_sentences(tmp_path, LEXICON)


def test_docstring_sentences_keep_plain_prose(tmp_path):
    (tmp_path / "mod.py").write_text(
        '"""The cat sat on the mat. Did you see it?\n\n>>> the dog ran home\n"""\n'
        'def f():\n    """We went to the park x. The dog ran home."""\n')
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "t.py").write_text('"""Is this your cat on the mat."""\n')
    assert docstring_sentences(tmp_path, LEXICON) == ["The cat sat on the mat.", "Did you see it?", "The dog ran home."]


def test_evaluation_sentences_and_their_four_word_runs_are_excluded():
    evaluation = ["The quick brown fox jumps over the lazy dog.", "Open the door and turn on the lights."]
    candidates = ["the quick brown fox jumps over the lazy dog",  # the same sentence, other case and punctuation
                  "Please open the door and see who it is.",  # shares "open the door and"
                  "Open the door, please.",  # three words in a row only: kept
                  "A fox jumps over a sleeping dog."]
    assert exclude_evaluation(candidates, evaluation) == ["Open the door, please.", "A fox jumps over a sleeping dog."]
    assert exclude_evaluation(candidates, []) == candidates


def test_extra_wordnet_examples_are_a_source_of_their_own_and_change_nothing_else():
    docstrings = [f"Docstring sentence {i}." for i in range(4)]
    examples = [f"Example sentence {i}." for i in range(10)] + ["Docstring sentence 0."]
    base = select_utterances(docstrings, examples, n_docstrings=4, n_wordnet=3, seed=7)
    more = select_utterances(docstrings, examples, n_docstrings=4, n_wordnet=3, n_extra=5, seed=7)
    assert more[: len(base)] == base  # every earlier name and text as it was
    assert [name for name, _ in base] == ["s00000", "s00001", "s00002", "s00003", "w00000", "w00001", "w00002"]
    assert [name for name, _ in more[len(base):]] == [f"wx{i:05d}" for i in range(5)]
    texts = [text for _, text in more]
    assert len(set(texts)) == len(texts)  # no example twice
    assert all(text.startswith("Example") for _, text in more[4:])  # nor one that is a docstring sentence already
    # asking for more than there is gives what there is
    assert len(select_utterances(docstrings, examples, 4, 3, n_extra=100, seed=7)) == 4 + 10


def test_adding_a_source_leaves_the_split_of_the_others_alone(tmp_path):
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for i in range(20):
        write_wav(str(wavs / f"s{i:05d}.wav"), to_pcm16(rng.uniform(-0.3, 0.3, 3000).astype(np.float32)), 22050)
        lines.append(f"wavs/s{i:05d}.wav|Sentence number {i}.")
    (tmp_path / "one.csv").write_text("\n".join(lines))
    for i in range(10):
        write_wav(str(wavs / f"w{i:05d}.wav"), to_pcm16(rng.uniform(-0.3, 0.3, 3000).astype(np.float32)), 22050)
        lines.append(f"wavs/w{i:05d}.wav|Example number {i}.")
    (tmp_path / "two.csv").write_text("\n".join(lines))

    def val_names(features):
        return [json.loads(x)["name"] for x in (features / "val.jsonl").read_text().splitlines()]

    assert prepare(tmp_path / "one.csv", tmp_path / "f1", val_fraction=0.2)["val"] == 4
    assert prepare(tmp_path / "two.csv", tmp_path / "f2", val_fraction=0.2)["val"] == 6
    before, after = val_names(tmp_path / "f1"), val_names(tmp_path / "f2")
    assert [n for n in after if n.startswith("s")] == before
    assert len([n for n in after if n.startswith("w")]) == 2
