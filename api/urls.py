from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.views import (
    ApiNotFoundView,
    CitationCSVView,
    ClaimCSVView,
    ClaimNDJSONView,
    ClaimRelationCSVView,
    ClaimViewSet,
    DataPackageView,
    PersonCSVView,
    PersonViewSet,
    SourceCSVView,
    SourceViewSet,
    TaskView,
)

router = DefaultRouter()
router.register("claims", ClaimViewSet, basename="claim")
router.register("sources", SourceViewSet, basename="source")
router.register("people", PersonViewSet, basename="person")

urlpatterns = [
    path("v1/claims.csv", ClaimCSVView.as_view(), name="claims-csv"),
    path("v1/claims.ndjson", ClaimNDJSONView.as_view(), name="claims-ndjson"),
    path("v1/datapackage.json", DataPackageView.as_view(), name="datapackage"),
    path("v1/citations.csv", CitationCSVView.as_view(), name="citations-csv"),
    path("v1/sources.csv", SourceCSVView.as_view(), name="sources-csv"),
    path("v1/people.csv", PersonCSVView.as_view(), name="people-csv"),
    path("v1/claim_relations.csv", ClaimRelationCSVView.as_view(), name="claim-relations-csv"),
    path("v1/tasks/<str:task_id>/", TaskView.as_view(), name="task-detail"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Last: anything else under /api/ (a misspelt path, an id like "1.5e3") is a 404 in
    # the API's JSON error shape, not Django's HTML page.
    re_path(r"", ApiNotFoundView.as_view()),
]
