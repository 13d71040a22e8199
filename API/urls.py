from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from . import views

urlpatterns = [
    path("tts/", views.TTSListCreateAPI.as_view(), name="tts-list"),
    path("tts/clean/", views.TTSCleanAPI.as_view(), name="tts-clean"),
    path("tts/<uuid:pk>/", views.TTSDetailAPI.as_view(), name="tts-detail"),
    path("auth/token/", obtain_auth_token, name="token"),
    path("health/", views.HealthAPI.as_view(), name="health"),
    path("health/ready/", views.ReadinessAPI.as_view(), name="ready"),
]
