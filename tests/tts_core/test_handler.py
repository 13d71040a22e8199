import io
import threading
import wave

import numpy as np
import pytest
import torch

from tts_core import HandlerConfig, ModelNotReadyError, SynthesisOptionError, TacotronHandler
from tts_core.checkpoints import CheckpointError
from tts_core.handler import InferenceOutput
from tts_core.hardware import int8_matmul_available
from tts_core.text import TextTooLongError, UnspeakableTextError, text_to_sequence

from .factories import save_our_tacotron, tiny_tacotron, tiny_waveglow


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    taco = tiny_tacotron(max_decoder_steps=30)
    taco.decoder.gate_layer.linear_layer.bias.data.fill_(-3.0)
    tpath = save_our_tacotron(folder / "tacotron2.pt", taco)
    wpath = folder / "waveglow.pt"
    torch.save({"state_dict": tiny_waveglow().state_dict()}, wpath)
    return tpath, wpath


@pytest.fixture(scope="module")
def handler(checkpoints):
    tpath, wpath = checkpoints
    return TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), waveglow_checkpoint=str(wpath),
                                         device="cpu", max_text_length=2000, griffin_lim_iters=4)).initialize()


def test_synthesize_returns_audio_rate_timings_and_flag(handler):
    result = handler.synthesize("Hello there.")
    assert result.sample_rate == 22050 and result.audio.dtype == np.float32
    assert len(result.audio) == result.mel_frames * 256  # trimmed to mel length x hop
    assert 0 < float(np.abs(result.audio).max()) <= 1.0
    assert set(result.timings) >= {"preprocess", "tacotron2", "vocoder", "denoiser", "total"}
    assert result.vocoder == "waveglow"
    with wave.open(io.BytesIO(result.wav_bytes())) as w:
        assert w.getframerate() == 22050 and w.getnframes() == len(result.audio)


def test_stages_can_be_called_separately(handler):
    data = handler.preprocess("One. Two!")
    assert [c.text for c in data.chunks] == ["One.", "Two!"]
    output = handler.inference(data, vocoder="griffinlim")
    result = handler.postprocess(output)
    pause = int(0.25 * 22050)
    assert len(result.audio) == result.mel_frames * 256 + pause and result.sentences == 2
    assert result.sigma is None and result.vocoder == "griffinlim"


def test_a_voice_that_never_stops_is_reported_truncated_at_the_step_limit(checkpoints):
    """The fixture's stop gate never fires (bias -3): every sentence runs into the limit, configured or the
    checkpoint's own, and the request says so."""
    tpath, _ = checkpoints
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), max_decoder_steps=3, warmup=False,
                                      griffin_lim_iters=2)).initialize()
    result = h.synthesize("This sentence cannot finish in three decoder steps.")
    assert result.truncated is True and result.mel_frames == 3 and len(result.audio) == 3 * 256
    unlimited = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), warmup=False,
                                              griffin_lim_iters=2)).initialize()
    result = unlimited.synthesize("Hello there.", vocoder="griffinlim")
    assert result.truncated is True and result.mel_frames == 30  # the checkpoint's max_decoder_steps


STOP_STEPS = 12  # the handler's decoder step limit in the tests below
SENTENCES = ["A long sentence that comes first here.", "Hi.", "Medium one, okay.", "Zebras quietly vex.", "Stop now!"]


@pytest.fixture(scope="module")
def stopping_voice(tmp_path_factory):
    """A voice whose stop gate fires within STOP_STEPS steps for some of SENTENCES and never for the others.

    The gate's logit does not feed back into decoding: decoding each sentence alone once with a gate that cannot
    fire (threshold above 1) gives its logits at every step, whatever the gate bias. The bias is then set between
    the sentences' highest logits (at the widest gap), so the sentences above stop and the others run into the
    limit. Prenet dropout is off so that every decode follows the same path. Returns the checkpoint and, per
    sentence, the stop step that the logits predict (None: never), counted as NVIDIA does (the frames before the
    step whose gate fires)."""
    model = tiny_tacotron(prenet_dropout=0.0)
    gate = model.decoder.gate_layer.linear_layer
    gate.bias.data.zero_()

    def logits(text: str) -> torch.Tensor:
        ids = text_to_sequence(text)
        return model.infer_full(torch.tensor([ids]), torch.tensor([len(ids)]), max_decoder_steps=STOP_STEPS,
                                gate_threshold=1.1).gate_outputs[0]

    g = torch.stack([logits(t) for t in SENTENCES])
    if float(g[:, -1].mean()) < float(g[:, 0].mean()):  # make the logits rise as decoding goes on
        gate.weight.data.neg_()
        g = -g
    peaks, _ = g.max(dim=1).values.sort()
    widest = int((peaks[1:] - peaks[:-1]).argmax())
    level = float(peaks[widest] + peaks[widest + 1]) / 2
    assert float((g - level).abs().min()) > 1e-4  # no logit near the level: fp32 rounding cannot move a stop
    gate.bias.data.fill_(-level)  # sigmoid(logit - level) > 0.5 exactly where logit > level
    stops = []
    for row in g:
        fired = (row > level).nonzero()
        stops.append(int(fired[0]) if len(fired) else None)
    assert any(s is None for s in stops) and any(s is not None for s in stops)
    assert all(s is None or s >= 2 for s in stops)  # stopping sentences still have frames of their own
    return save_our_tacotron(tmp_path_factory.mktemp("stop") / "tacotron2.pt", model), stops


@pytest.mark.parametrize("batch_size", [2, 5])  # 2: batches that stop early, run to the limit, or mix; 5: all in one
def test_some_sentences_stop_and_others_are_truncated_in_one_request(stopping_voice, batch_size):
    path, stops = stopping_voice
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(path), max_decoder_steps=STOP_STEPS, precision="fp32",
                                      batch_size=batch_size, warmup=False, griffin_lim_iters=2)).initialize()
    data = h.preprocess(" ".join(SENTENCES))
    assert [c.text for c in data.chunks] == SENTENCES
    out = h.inference(data, vocoder="griffinlim")
    expected = [STOP_STEPS if s is None else s for s in stops]
    assert [len(w) // 256 for w in out.waves] == expected  # each sentence's own length, in the request's order
    assert out.mel_frames == sum(expected)
    assert out.truncated is True  # some sentence hit the limit
    result = h.postprocess(out)
    assert result.truncated is True and result.sentences == len(SENTENCES)

    finished = [t for t, s in zip(SENTENCES, stops) if s is not None]
    result = h.synthesize(" ".join(finished), vocoder="griffinlim")
    assert result.truncated is False  # every sentence stopped by itself
    assert result.mel_frames == sum(s for s in stops if s is not None)
    cut = [t for t, s in zip(SENTENCES, stops) if s is None]
    result = h.synthesize(" ".join(cut), vocoder="griffinlim")
    assert result.truncated is True and result.mel_frames == STOP_STEPS * len(cut)


@pytest.mark.parametrize("options, message", [
    ({"sigma": -0.1}, "sigma"), ({"sigma": 5}, "sigma"), ({"denoiser_strength": 2}, "denoiser_strength"),
    ({"vocoder": "hifigan"}, "unknown vocoder"), ({"sigma": float("nan")}, "sigma"),
])
def test_bad_options(handler, options, message):
    with pytest.raises(SynthesisOptionError, match=message):
        handler.synthesize("Hello.", **options)


def test_waveglow_unavailable_without_checkpoint(checkpoints):
    tpath, _ = checkpoints
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), warmup=False, griffin_lim_iters=2))
    h.initialize()
    assert h.default_vocoder == "griffinlim" and h.vocoders == ("griffinlim",)
    with pytest.raises(SynthesisOptionError, match="not available"):
        h.synthesize("Hello.", vocoder="waveglow")


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "中文", "\x07\x08"])
def test_unspeakable_text(handler, text):
    with pytest.raises(UnspeakableTextError):
        handler.synthesize(text)


def test_too_long_text(handler):
    with pytest.raises(TextTooLongError, match="maximum is 2000"):
        handler.synthesize("a" * 2001)


def test_sentences_that_are_only_emoji_are_skipped(handler):
    assert len(handler.preprocess("Hello. 🙂🙂. Bye.").chunks) == 2


def test_seeded_handler_is_reproducible_end_to_end_and_thread_safe(checkpoints):
    tpath, wpath = checkpoints
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), waveglow_checkpoint=str(wpath), seed=1,
                                      warmup=False)).initialize()
    assert h.tacotron.model.cfg.prenet_dropout > 0  # dropout stays on: the seed fixes its draws too
    texts = ["Alpha beta.", "Gamma delta epsilon.", "Zeta.", "Eta theta iota kappa."]
    expected = [h.synthesize(t).audio for t in texts]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        torch.rand(100)  # unseeded work in other threads draws from the global stream meanwhile
        results[i] = h.synthesize(texts[i]).audio

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, audio in enumerate(expected):
        np.testing.assert_array_equal(results[i], audio)
    np.testing.assert_array_equal(h.synthesize(texts[0], seed=1).audio, expected[0])  # the config's seed is 1
    assert not np.array_equal(h.synthesize(texts[0], seed=2).audio, expected[0])  # a request's seed wins


def test_the_seed_fixes_the_prenet_dropout_draws(handler):
    """Griffin-Lim draws nothing at random, so with it two requests differ only through the prenet's dropout (on
    at inference, as in NVIDIA's code): the same seed must give the same audio, another seed or none other audio."""
    assert handler.tacotron.model.cfg.prenet_dropout > 0

    def audio(seed: int | None) -> np.ndarray:
        return handler.synthesize("Seeded request.", seed=seed, vocoder="griffinlim").audio

    first = audio(7)
    np.testing.assert_array_equal(first, audio(7))
    assert not np.array_equal(first, audio(8))
    assert not np.array_equal(audio(None), audio(None))


def test_the_seed_fixes_the_vocoder_noise_too(handler):
    """WaveGlow draws its input noise: the same seed must give the same audio with it too."""
    a, b = (handler.synthesize("Seeded request.", seed=7).audio for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, handler.synthesize("Seeded request.", seed=8).audio)
    assert not np.array_equal(handler.synthesize("Unseeded request.").audio,
                              handler.synthesize("Unseeded request.").audio)


def test_max_decoder_steps_is_passed_per_call_and_the_model_is_left_alone(checkpoints):
    tpath, _ = checkpoints
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), max_decoder_steps=3, warmup=False,
                                      griffin_lim_iters=2)).initialize()
    assert h.tacotron.model.max_decoder_steps == 30  # the checkpoint's own limit is not rewritten
    with pytest.raises(AttributeError, match="per call"):
        h.tacotron.model.max_decoder_steps = 3  # a shared model is not changed by one caller for the others
    assert h.synthesize("Long enough to need more than three steps.").mel_frames == 3


def test_inference_returns_a_typed_result(handler):
    out = handler.inference(handler.preprocess("Typed. Result."), vocoder="waveglow", seed=0)
    assert isinstance(out, InferenceOutput) and len(out.waves) == 2
    assert out.vocoder == "waveglow" and out.sigma == 0.666 and out.denoiser_strength == 0.01
    assert set(out.timings) == {"tacotron2", "vocoder", "denoiser"}


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tmp_path / "missing.pt"), warmup=False))
    with pytest.raises(CheckpointError, match="checkpoint not found: .*missing.pt"):  # the service answers 503
        h.initialize()


def test_no_voice_at_all(monkeypatch):
    import tts_core.handler as handler_mod

    monkeypatch.setattr(handler_mod, "DEMO_TACOTRON2", handler_mod.DEMO_TACOTRON2.with_name("absent.pt"))
    with pytest.raises(ModelNotReadyError, match="TTS_TACOTRON2_CHECKPOINT"):
        TacotronHandler(HandlerConfig(warmup=False)).initialize()


def _snr(reference: torch.Tensor, other: torch.Tensor) -> float:
    reference, other = torch.as_tensor(reference).flatten().double(), torch.as_tensor(other).flatten().double()
    return float(10 * torch.log10(reference.pow(2).sum() / (reference - other).pow(2).sum()))


# The lossy precisions only: fp32 runs WaveGlow's reference modules, so its audio is the reference's.
@pytest.mark.parametrize("precision", ["bf16", pytest.param("int8", marks=pytest.mark.skipif(
    not int8_matmul_available(), reason="this PyTorch has no weight-only int8 matmul"))])
def test_lossy_precisions_give_faithful_audio(checkpoints, precision):
    """bf16 and int8 against the eager fp32 reference on the same inputs, dropout draws and noise: the decoder's
    mel, the vocoder alone (the same mel in), and a whole request. Measured on these tiny models: mel max error
    0.0007 (bf16) / 0.0016 (int8), SNR about 65 dB for both; the bounds leave a few times that."""
    tpath, wpath = checkpoints

    def make(p):
        return TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), waveglow_checkpoint=str(wpath),
                                             precision=p, warmup=False)).initialize()

    ref, other = make("eager"), make(precision)
    assert other.precision == precision
    ids = ref.preprocess("Precision check.").chunks[0].ids
    x, n = torch.tensor([ids]), torch.tensor([len(ids)])
    with torch.inference_mode():
        mel_ref = ref.tacotron.model.infer_full(x, n, prenet_dropout=0.0).mel_outputs_postnet
        mel = other.tacotron.model.infer_full(x, n, prenet_dropout=0.0).mel_outputs_postnet
        assert mel.shape == mel_ref.shape  # the gate never fires here: both run to the step limit
        assert 0 < float((mel - mel_ref).abs().max()) < 0.005  # lossy, but within the bound
        wav_ref = ref.waveglow.infer(mel_ref, sigma=0.5, generator=torch.Generator().manual_seed(0))
        wav = other.waveglow.infer(mel_ref, sigma=0.5, generator=torch.Generator().manual_seed(0))
    assert 50 < _snr(wav_ref, wav) < float("inf")
    text = "Precision check. A second sentence."
    a, b = ref.synthesize(text, seed=3), other.synthesize(text, seed=3)
    assert a.mel_frames == b.mel_frames and 50 < _snr(a.audio, b.audio) < float("inf")


def test_auto_precision_follows_the_cpu(checkpoints, monkeypatch):
    import tts_core.precision as precision_module

    tpath, _ = checkpoints

    def resolved() -> str:
        return TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), device="cpu",
                                             warmup=False)).initialize().precision

    monkeypatch.setattr(precision_module, "cpu_has_bf16", lambda: True)  # CPU features: the one thing faked here
    monkeypatch.setattr(precision_module, "cpu_has_vnni", lambda: False)
    assert resolved() == "int8"
    monkeypatch.setattr(precision_module, "cpu_has_bf16", lambda: False)
    assert resolved() == "fp32"
    monkeypatch.setattr(precision_module, "cpu_has_vnni", lambda: True)
    assert resolved() == "int8"


def test_unknown_or_unavailable_precision(checkpoints):
    tpath, _ = checkpoints
    with pytest.raises(ModelNotReadyError, match="unknown precision"):
        TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), precision="int4", warmup=False)).initialize()
    with pytest.raises(ModelNotReadyError, match="needs CUDA"):
        TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), precision="fp16", device="cpu",
                                      warmup=False)).initialize()


def test_progress_hears_the_sentence_count_then_each_sentence_and_can_stop_the_synthesis(handler):
    heard = []
    result = handler.synthesize("One. Two here. And three.", progress=lambda done, total: heard.append((done, total)))
    assert heard == [(0, 3), (1, 3), (2, 3), (3, 3)] and result.sentences == 3

    class Stop(Exception):
        pass

    def stop_after_first(done, total):
        if done == 1:
            raise Stop

    with pytest.raises(Stop):
        handler.synthesize("One. Two here. And three.", progress=stop_after_first)


def test_check_speakable_needs_no_model_and_agrees_with_the_handler(handler):
    from tts_core.text import UnspeakableTextError, check_speakable

    check_speakable("😀. But this one speaks.")
    for text in ("😀 🎉", "...", "日本語"):
        with pytest.raises(UnspeakableTextError):
            check_speakable(text)
        with pytest.raises(UnspeakableTextError):
            handler.preprocess(text)


def test_dynamic_batching_decodes_concurrent_requests_together_and_keeps_each_ones_result(stopping_voice):
    """Requests from several threads meet in one decoder batch; each still gets its own sentence's length and
    truncation flag (some sentences stop, others run into the limit); a seeded request decodes alone, so it gives
    the audio it gives without batching."""
    path, stops = stopping_voice
    config = HandlerConfig(tacotron2_checkpoint=str(path), max_decoder_steps=STOP_STEPS, precision="fp32",
                           warmup=False, griffin_lim_iters=2)
    batched = TacotronHandler(config.replace(dynamic_batch_size=len(SENTENCES),
                                             dynamic_batch_wait_ms=1000)).initialize()
    results = [None] * len(SENTENCES)
    barrier = threading.Barrier(len(SENTENCES))

    def request(i: int) -> None:
        barrier.wait()
        results[i] = batched.synthesize(SENTENCES[i], vocoder="griffinlim")

    threads = [threading.Thread(target=request, args=(i,)) for i in range(len(SENTENCES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert batched.owner.stats.batches == 1 and batched.owner.stats.largest == len(SENTENCES)
    for result, stop in zip(results, stops):
        assert result.mel_frames == (STOP_STEPS if stop is None else stop)
        assert result.truncated is (stop is None)
    alone = TacotronHandler(config).initialize()
    a = batched.synthesize(SENTENCES[0], vocoder="griffinlim", seed=5)
    b = alone.synthesize(SENTENCES[0], vocoder="griffinlim", seed=5)
    assert batched.owner.stats.batches == 1  # the seeded request did not go through the batcher
    np.testing.assert_array_equal(a.audio, b.audio)
