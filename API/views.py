"""Thin HTTP layer: validate input, call services/selectors, serialize output. Views decide nothing about access
(selectors and services do) and build no error bodies: they raise, and API.exceptions renders."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import engine
from .permissions import CanSynthesize
from .selectors import tts_get, tts_list
from .serializers import TTSCreateInputSerializer, TTSListFilterSerializer, TTSoundOutputSerializer
from .services import tts_bulk_delete, tts_create, tts_delete
from .throttling import SynthesisAnonThrottle, SynthesisUserThrottle


def _filters(request) -> dict:
    """The list filters of the query string, validated (``page`` is the paginator's)."""
    filters = TTSListFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return {k: v for k, v in filters.validated_data.items() if k != "page"}


ERROR_SCHEMA = inline_serializer("Error", {"error": inline_serializer("ErrorBody", {
    "status": serializers.IntegerField(), "code": serializers.CharField(), "message": serializers.CharField(),
    "details": serializers.JSONField(required=False)})})


class TTSListCreateAPI(APIView):
    def get_permissions(self):
        return [CanSynthesize()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [SynthesisUserThrottle(), SynthesisAnonThrottle()] if self.request.method == "POST" else []

    @extend_schema(request=TTSCreateInputSerializer,
                   responses={201: TTSoundOutputSerializer, 400: ERROR_SCHEMA, 413: ERROR_SCHEMA,
                              429: ERROR_SCHEMA, 503: ERROR_SCHEMA},
                   summary="Synthesize speech from text")
    def post(self, request):
        data = TTSCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sound = tts_create(owner=request.user, **data.validated_data)
        return Response(TTSoundOutputSerializer(sound, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[TTSListFilterSerializer], responses={200: TTSoundOutputSerializer(many=True)},
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

    @extend_schema(responses={200: TTSoundOutputSerializer, 404: ERROR_SCHEMA}, summary="One sound by uuid")
    def get(self, request, pk):
        sound = tts_get(pk=pk, user=request.user)
        return Response(TTSoundOutputSerializer(sound, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: ERROR_SCHEMA}, summary="Delete a sound and its audio file")
    def delete(self, request, pk):
        tts_delete(sound=tts_get(pk=pk, user=request.user), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TTSCleanAPI(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[OpenApiParameter("created_before", str, description="ISO date-time; default: all")],
                   request=None,
                   responses={200: inline_serializer("CleanResult", {"deleted": serializers.IntegerField()})},
                   summary="Staff: delete sounds (and their files) in bulk")
    def delete(self, request):
        deleted = tts_bulk_delete(queryset=tts_list(user=request.user, **_filters(request)), by=request.user)
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

    @extend_schema(responses={200: inline_serializer("Ready", {"ready": serializers.BooleanField(),
                                                                 "voice": serializers.CharField()})},
                   summary="Readiness: loads the models if needed and says which voice is active")
    def get(self, request):
        try:
            engine.get_handler()
        except Exception:  # reported, not raised: readiness must answer
            pass
        state = engine.status()
        return Response(state, status=200 if state["ready"] else 503)
