"""The OpenAI-compatible door: POST /v1/audio/speech, GET /v1/models, /v1/audio/models, /v1/audio/voices.
Thin like the others: validate, call the one service entry, translate; errors are rendered in OpenAI's shape
(API.v1.errors)."""
from __future__ import annotations

import time

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tts_core.encoding import FORMATS

from ..permissions import CanSynthesize
from ..services import tts_stream
from ..throttling import SynthesisAnonThrottle, SynthesisUserThrottle
from . import voices
from .responses import speech_response
from .serializers import RESPONSE_FORMATS, SpeechInputSerializer

OPENAI_ERROR_SCHEMA = inline_serializer("OpenAIError", {"error": inline_serializer("OpenAIErrorBody", {
    "message": serializers.CharField(), "type": serializers.CharField(),
    "param": serializers.CharField(allow_null=True), "code": serializers.CharField(allow_null=True)})})
STARTED = int(time.time())


class AnyAccept(BaseContentNegotiation):
    """The SDKs ask for application/octet-stream: the audio answers that, and errors are JSON whatever was asked
    (DRF would refuse the request with 406 before it ran)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _errors(*codes: int) -> dict:
    return {code: OPENAI_ERROR_SCHEMA for code in sorted({*codes, 503})}


class SpeechAPI(APIView):
    permission_classes = [CanSynthesize]
    throttle_classes = [SynthesisUserThrottle, SynthesisAnonThrottle]
    content_negotiation_class = AnyAccept

    @extend_schema(request=SpeechInputSerializer,
                   responses={**{(200, FORMATS[f].mime): OpenApiTypes.BINARY for f in RESPONSE_FORMATS},
                              (200, "text/event-stream"): OpenApiTypes.STR,
                              **_errors(400, 401, 403, 413, 429, 500, 504)},
                   summary="OpenAI-compatible speech: the audio, streamed sentence by sentence as it is made")
    def post(self, request):
        data = SpeechInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        fmt = v["response_format"]
        rate = v.get("sample_rate") or (24000 if fmt == "pcm" else None)
        relay = tts_stream(text=v["input"], owner=request.user, vocoder=v["voice"].vocoder, sigma=v.get("sigma"),
                           denoiser_strength=v.get("denoiser_strength"), format=fmt, speed=v["speed"],
                           sample_rate=rate, timestamps=v["timestamps"], keep=settings.TTS["OPENAI_RECORD"])
        return speech_response(relay, fmt=fmt, rate=rate, stream_format=v["stream_format"],
                               characters=len(v["input"]))


def _model(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": STARTED, "owned_by": "tacotron2-tts"}


class ModelsAPI(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: inline_serializer("OpenAIModels", {
        "object": serializers.CharField(), "data": serializers.ListField(child=serializers.DictField())})},
        summary="The models served (OpenAI's list; every name maps to this server's Tacotron2)")
    def get(self, request):
        return Response({"object": "list", "data": [_model(m) for m in (voices.MODEL_ID, *voices.OPENAI_MODELS)]})


class AudioModelsAPI(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: inline_serializer("AudioModels", {
        "models": serializers.ListField(child=serializers.DictField())})},
        summary="Speech models, as self-hosted servers list them for Open WebUI")
    def get(self, request):
        return Response({"models": [{"id": m, "name": m} for m in (voices.MODEL_ID, *voices.OPENAI_MODELS)]})


class VoicesAPI(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: inline_serializer("Voices", {
        "voices": serializers.ListField(child=serializers.DictField())})},
        summary="Voices: their ids, and the other names (OpenAI's) that mean each")
    def get(self, request):
        return Response({"voices": voices.catalogue()})
