from django.contrib import admin
from django.urls import include, path, reverse

from api.throttling import throttled_search
from claims import feeds, views
from config import two_factor

admin.site.site_header = "Claimtrail editors"
admin.site.site_title = "Claimtrail"
admin.site.index_title = "Claims, sources and people"
# The changelists are wide (citation counts, dates, ratings); give them the whole page.
admin.site.enable_nav_sidebar = False
# The password, then the two-factor code of an account that has one (config.two_factor).
admin.site.login_form = two_factor.TwoFactorLoginForm
admin.site.login_template = "admin/login_two_factor.html"

handler500 = "config.views.server_error"


def home() -> str:
    return reverse("claim-list")


urlpatterns = [
    path("admin/two-factor/", two_factor.setup, name="two-factor"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Searching is the one costly thing a reader can repeat: it is rate-limited like the API.
    path("", throttled_search(views.claim_list), name="claim-list"),
    path("", include("claims.urls")),
    # Atom feeds (claims.feeds), whose alternate page is the list above.
    path("feeds/fact-checks/", feeds.FactChecks(home), name="feed-fact-checks"),
    path("feeds/corrections/", feeds.Corrections(home), name="feed-corrections"),
    path("feeds/topics/<slug:slug>/", feeds.TopicFactChecks(home), name="feed-topic"),
    path("feeds/people/<int:pk>/", feeds.PersonFactChecks(home), name="feed-person"),
    path("feeds/sources/<int:pk>/", feeds.SourceFactChecks(home), name="feed-source"),
]
