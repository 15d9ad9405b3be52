from django.contrib import admin
from django.urls import include, path, reverse
from django.views.i18n import JavaScriptCatalog

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
    # Security keys' ceremonies (config.two_factor) and their script's messages.
    path(
        "admin/two-factor/key/sign-in/begin/",
        two_factor.SignInBegin.as_view(),
        name="security-key-sign-in-begin",
    ),
    path(
        "admin/two-factor/key/sign-in/complete/",
        two_factor.SignInComplete.as_view(),
        name="security-key-sign-in-complete",
    ),
    path(
        "admin/two-factor/key/add/begin/",
        two_factor.AddBegin.as_view(),
        name="security-key-add-begin",
    ),
    path(
        "admin/two-factor/key/add/complete/",
        two_factor.AddComplete.as_view(),
        name="security-key-add-complete",
    ),
    path(
        "admin/two-factor/key/messages.js",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="security-key-messages",
    ),
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
