from django.urls import path

from . import views

urlpatterns = [
    path("tts/", views.TTSListCreateAPI.as_view(), name="tts-list"),
    path("tts/clean/", views.TTSCleanAPI.as_view(), name="tts-clean"),
    path("tts/<uuid:pk>/", views.TTSDetailAPI.as_view(), name="tts-detail"),
    path("tts/<uuid:pk>/audio/", views.TTSAudioAPI.as_view(), name="tts-audio"),
    path("auth/token/", views.TokenAPI.as_view(), name="token"),
    path("health/", views.HealthAPI.as_view(), name="health"),
    path("health/ready/", views.ReadinessAPI.as_view(), name="ready"),
]
