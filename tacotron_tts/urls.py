from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("API.urls")),
    path("v1/", include("API.v1.urls")),
    path("", include("API.web.urls")),
]

handler404 = "API.exceptions.not_found"
handler500 = "API.exceptions.server_error"

if settings.DEBUG:  # in production Nginx serves these
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
