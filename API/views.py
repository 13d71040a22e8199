"""Thin HTTP layer: validate input, call services/selectors, serialize output. Views decide nothing about access
(selectors and services do) and build no error bodies: they raise, and API.exceptions renders."""
from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from tts_core import ModelNotReadyError
from tts_core.encoding import FORMATS

from . import backends, engine
from .exceptions import QueueUnavailable
from .permissions import CanSynthesize
from .selectors import database_ping, tts_get, tts_get_audio, tts_list
from .serializers import (
    TTSCleanFilterSerializer,
    TTSCreateInputSerializer,
    TTSListFilterSerializer,
    TTSoundOutputSerializer,
)
from .services import tts_bulk_delete, tts_delete, tts_request
from .throttling import ReadinessThrottle, SynthesisAnonThrottle, SynthesisUserThrottle


def audio_file_response(sound) -> HttpResponse:
    """The record's WAV, sent by nginx (X-Accel-Redirect to its internal /media/ location: sendfile, Range) or, in a
    run without it, by Django. Never kept by a shared cache; revalidated, so a deleted record's link dies at once."""
    name, audio_format = sound.audio_join.name, FORMATS[sound.audio_format]
    if settings.TTS["AUDIO_SENDER"] == "nginx":
        response = HttpResponse(content_type=audio_format.mime)
        response["X-Accel-Redirect"] = settings.MEDIA_URL + quote(name)
    else:
        response = FileResponse(sound.audio_join.storage.open(name, "rb"), content_type=audio_format.mime)
    response["Content-Disposition"] = f'inline; filename="{sound.pk}.{audio_format.extension}"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _filters(request, serializer=TTSListFilterSerializer) -> dict:
    """The list filters of the query string, validated (``page`` is the paginator's, ``all`` the clean's)."""
    filters = serializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return {k: v for k, v in filters.validated_data.items() if k not in ("page", "all")}


ERROR_SCHEMA = inline_serializer("Error", {"error": inline_serializer("ErrorBody", {
    "status": serializers.IntegerField(), "code": serializers.CharField(), "message": serializers.CharField(),
    "details": serializers.JSONField(required=False)})})
PAGE_SCHEMA = inline_serializer("TTSoundPage", {
    "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
    "previous": serializers.URLField(allow_null=True), "results": TTSoundOutputSerializer(many=True)})


def errors(*codes: int) -> dict:
    """The error responses an operation documents; 503 (database unavailable) can come from any of them, and 414
    (nginx: a request line over 8 KiB, e.g. a huge query string) too."""
    return {code: ERROR_SCHEMA for code in sorted({*codes, 414, 503})}


class TTSListCreateAPI(APIView):
    def get_permissions(self):
        return [CanSynthesize()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [SynthesisUserThrottle(), SynthesisAnonThrottle()] if self.request.method == "POST" else []

    @extend_schema(request=TTSCreateInputSerializer,
                   parameters=[OpenApiParameter("Prefer", str, OpenApiParameter.HEADER, required=False,
                                                description="respond-async: answer 202 at once (as async: true)")],
                   responses={201: TTSoundOutputSerializer, 202: TTSoundOutputSerializer,
                              **errors(400, 401, 403, 409, 413, 429, 500, 504, 507)},
                   summary="Synthesize speech from text (201 with the audio; 202 with a job to poll)")
    def post(self, request):
        data = TTSCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        prefer_async = "respond-async" in request.headers.get("Prefer", "").lower()
        asynchronous = options.pop("async") or prefer_async
        sound = tts_request(owner=request.user, asynchronous=asynchronous, **options)
        done = sound.status == sound.Status.DONE
        headers = {"Location": request.build_absolute_uri(reverse("tts-detail", kwargs={"pk": sound.pk}))}
        if prefer_async:
            headers["Preference-Applied"] = "respond-async"
        return Response(TTSoundOutputSerializer(sound, context={"request": request}).data,
                        status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED, headers=headers)

    @extend_schema(parameters=[TTSListFilterSerializer], responses={200: PAGE_SCHEMA, **errors(400, 401, 403, 404)},
                   operation_id="tts_list",
                   summary="List your synthesized sounds (staff: all), newest first")
    def get(self, request):
        qs = tts_list(user=request.user, **_filters(request))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            TTSoundOutputSerializer(page, many=True, context={"request": request}).data)


class TTSDetailAPI(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses={200: TTSoundOutputSerializer, **errors(404)}, summary="One sound by uuid")
    def get(self, request, pk):
        sound = tts_get(pk=pk, user=request.user)
        return Response(TTSoundOutputSerializer(sound, context={"request": request}).data)

    @extend_schema(responses={204: None, **errors(401, 403, 404)},
                   summary="Delete a sound and its audio file (a queued or running job is cancelled)")
    def delete(self, request, pk):
        tts_delete(sound=tts_get(pk=pk, user=request.user), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TTSAudioAPI(APIView):
    permission_classes = [AllowAny]  # the access rule is tts_can_read_audio (owner, staff, or a signed link)

    @extend_schema(parameters=[OpenApiParameter("sig", str, description="the signature audio_url carries")],
                   responses={**{(200, f.mime): OpenApiTypes.BINARY for f in FORMATS.values() if f.name != "pcm"},
                              **errors(401, 403, 404)},
                   summary="The audio file of a sound (access-checked; Range supported behind nginx)")
    def get(self, request, pk):
        sound = tts_get_audio(pk=pk, user=request.user, signature=request.query_params.get("sig"))
        return audio_file_response(sound)


class TTSCleanAPI(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[TTSCleanFilterSerializer], request=None,
                   responses={200: inline_serializer("CleanResult", {"deleted": serializers.IntegerField()}),
                              **errors(400, 401, 403)},
                   summary="Staff: delete sounds (and their files) in bulk: a date range, or all=true")
    def delete(self, request):
        filters = _filters(request, TTSCleanFilterSerializer)
        deleted = tts_bulk_delete(queryset=tts_list(user=request.user, **filters), by=request.user)
        return Response({"deleted": deleted})


class HealthAPI(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: inline_serializer("Health", {"status": serializers.CharField()})},
                   summary="Liveness")
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessAPI(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ReadinessThrottle]

    @extend_schema(responses={200: inline_serializer("Ready", {"ready": serializers.BooleanField(),
                                                                 "backend": serializers.CharField(),
                                                                 "voice": serializers.CharField(required=False)}),
                              503: inline_serializer("NotReady", {"ready": serializers.BooleanField(),
                                                                    "reason": serializers.CharField()}),
                              429: ERROR_SCHEMA},
                   summary="Readiness: the models are loaded (loading them if needed; with the celery backend, the "
                           "broker answers instead) and the database answers")
    def get(self, request):
        if engine.serves_synthesis("web"):
            try:
                engine.get_handler()
            except ModelNotReadyError:  # reported, not raised: readiness must answer (engine logs and backs off)
                pass
            state = engine.status()
        else:  # the models live in the workers; this process needs the queue
            state = {"ready": True}
            try:
                backends.broker_ping()
            except QueueUnavailable:
                state = {"ready": False, "reason": "the job queue (broker) is unavailable"}
        state = {**state, "backend": backends.name()}
        try:
            database_ping()
        except (OperationalError, InterfaceError):
            state = {**state, "ready": False, "reason": "the database is unavailable"}
        return Response(state, status=200 if state["ready"] else 503)


class TokenAPI(ObtainAuthToken):
    """DRF's token view, with its answers documented (and errors in the API's one shape)."""

    renderer_classes = [JSONRenderer]

    @extend_schema(request=AuthTokenSerializer,
                   responses={200: inline_serializer("Token", {"token": serializers.CharField()}), **errors(400)},
                   summary="Exchange a username and password for an API token")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

