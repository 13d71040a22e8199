import io
import threading
import wave

import numpy as np
import pytest
import torch

from tts_core import HandlerConfig, ModelNotReadyError, SynthesisOptionError, TacotronHandler
from tts_core.handler import InferenceOutput
from tts_core.text import TextTooLongError, UnspeakableTextError

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
    assert isinstance(result.truncated, bool) and result.vocoder == "waveglow"
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


def test_truncation_is_reported(checkpoints):
    tpath, _ = checkpoints
    h = TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), max_decoder_steps=3, warmup=False,
                                      griffin_lim_iters=2)).initialize()
    result = h.synthesize("This sentence cannot finish in three decoder steps.")
    assert result.truncated and result.mel_frames == 3


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


def test_a_request_seed_overrides_the_config_and_unseeded_requests_vary(handler):
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
    with pytest.raises(Exception, match="not found"):
        h.initialize()


def test_no_voice_at_all(monkeypatch):
    import tts_core.handler as handler_mod

    monkeypatch.setattr(handler_mod, "DEMO_TACOTRON2", handler_mod.DEMO_TACOTRON2.with_name("absent.pt"))
    with pytest.raises(ModelNotReadyError, match="TTS_TACOTRON2_CHECKPOINT"):
        TacotronHandler(HandlerConfig(warmup=False)).initialize()


@pytest.mark.parametrize("precision", ["eager", "fp32", "bf16", "int8"])
def test_precisions_give_faithful_audio(checkpoints, precision):
    tpath, wpath = checkpoints

    def make(p):
        return TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), waveglow_checkpoint=str(wpath),
                                             precision=p, seed=3, warmup=False)).initialize()

    ref, other = make("eager"), make(precision)
    assert other.precision == precision
    data = ref.preprocess("Precision check.")
    mel_ref = ref.tacotron.model.infer_full(torch.tensor([data.chunks[0].ids]), torch.tensor([len(data.chunks[0].ids)]),
                                            prenet_dropout=0.0).mel_outputs_postnet
    mel = other.tacotron.model.infer_full(torch.tensor([data.chunks[0].ids]), torch.tensor([len(data.chunks[0].ids)]),
                                          prenet_dropout=0.0).mel_outputs_postnet
    n = min(mel.size(2), mel_ref.size(2))
    tolerance = {"eager": 0.0, "fp32": 1e-4, "bf16": 0.05, "int8": 0.05}[precision]
    assert float((mel[..., :n] - mel_ref[..., :n]).abs().max()) <= tolerance
    wav_ref = ref.waveglow.infer(mel_ref, sigma=0.5, generator=torch.Generator().manual_seed(0))
    wav = other.waveglow.infer(mel_ref, sigma=0.5, generator=torch.Generator().manual_seed(0))
    snr = 10 * torch.log10(wav_ref.pow(2).sum() / (wav_ref - wav).pow(2).sum().clamp(min=1e-20))
    assert float(snr) > 30


def test_auto_precision_follows_the_cpu(checkpoints, monkeypatch):
    import tts_core.precision as precision_module

    tpath, _ = checkpoints

    def resolved() -> str:
        return TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), device="cpu",
                                             warmup=False)).initialize().precision

    monkeypatch.setattr(precision_module, "cpu_has_bf16", lambda: True)  # CPU features: the one thing faked here
    assert resolved() == "int8"
    monkeypatch.setattr(precision_module, "cpu_has_bf16", lambda: False)
    assert resolved() == "fp32"


def test_unknown_or_unavailable_precision(checkpoints):
    tpath, _ = checkpoints
    with pytest.raises(ModelNotReadyError, match="unknown precision"):
        TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), precision="int4", warmup=False)).initialize()
    with pytest.raises(ModelNotReadyError, match="needs CUDA"):
        TacotronHandler(HandlerConfig(tacotron2_checkpoint=str(tpath), precision="fp16", device="cpu",
                                      warmup=False)).initialize()
