from decimal import Decimal

from django.core.management import call_command
from rest_framework.renderers import JSONRenderer

from api.documents import claim_documents, serializer_documents
from api.renderers import ORJSONRenderer
from claims.models import Claim


def test_orjson_output_is_byte_for_byte_drfs(naughty_strings: list[str]) -> None:
    data = {
        "strings": naughty_strings,
        "separators": "\u2028 and \u2029",
        "nested": [{"a": None, "b": True, "c": 1.5, "d": -3}],
    }
    assert ORJSONRenderer().render(data) == JSONRenderer().render(data)


def test_demo_claims_render_identically(db: None) -> None:
    call_command("load_demo")
    claims = list(Claim.objects.order_by("id"))
    plain = serializer_documents([claim.pk for claim in claims])
    assert ORJSONRenderer().render(plain) == JSONRenderer().render(plain)
    # The documents as the API builds them here (PostgreSQL's JSON where it is the
    # database) give the same bytes, and the same indented output when asked for.
    documents = claim_documents(claims, published_only=False)
    assert ORJSONRenderer().render(documents) == ORJSONRenderer().render(plain)
    indented = "application/json; indent=2"
    assert ORJSONRenderer().render(documents, indented) == JSONRenderer().render(plain, indented)


def test_values_orjson_cannot_write_fall_back_to_drf() -> None:
    data = {"amount": Decimal("1.10")}
    assert ORJSONRenderer().render(data) == JSONRenderer().render(data) == b'{"amount":1.1}'


def test_indented_output_is_still_available() -> None:
    rendered = ORJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert rendered == b'{\n  "a": 1\n}'
