from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Claimtrail editors"
admin.site.site_title = "Claimtrail"
admin.site.index_title = "Claims, sources and people"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
