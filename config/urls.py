from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Claimtrail editors"
admin.site.site_title = "Claimtrail"
admin.site.index_title = "Claims, sources and people"
# The changelists are wide (citation counts, dates, ratings); give them the whole page.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
