from django.urls import path

from . import views

urlpatterns = [
    path("audio/speech", views.SpeechAPI.as_view(), name="v1-speech"),
    path("audio/voices", views.VoicesAPI.as_view(), name="v1-voices"),
    path("audio/models", views.AudioModelsAPI.as_view(), name="v1-audio-models"),
    path("models", views.ModelsAPI.as_view(), name="v1-models"),
]
