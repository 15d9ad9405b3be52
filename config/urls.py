from django.contrib import admin
from django.urls import include, path

from api.throttling import throttled_search
from claims import views

admin.site.site_header = "Claimtrail editors"
admin.site.site_title = "Claimtrail"
admin.site.index_title = "Claims, sources and people"
# The changelists are wide (citation counts, dates, ratings); give them the whole page.
admin.site.enable_nav_sidebar = False

handler500 = "config.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Searching is the one costly thing a reader can repeat: it is rate-limited like the API.
    path("", throttled_search(views.claim_list), name="claim-list"),
    path("", include("claims.urls")),
]
