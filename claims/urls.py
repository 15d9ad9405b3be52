"""The reading pages' addresses: claims, sources, people, ratings. The list with its search
is config/urls.py's (it is rate-limited there, as the API is), and so are the feeds, which
link to it."""

from django.urls import path

from claims import views

urlpatterns = [
    path("claims/<int:pk>/", views.claim_detail, name="claim-page"),
    path("claims/<int:pk>/preview/", views.claim_preview, name="claim-preview"),
    path("sources/<int:pk>/", views.source_detail, name="source-page"),
    path("people/<int:pk>/", views.person_detail, name="person-page"),
    path("ratings/", views.ratings, name="ratings"),
]
