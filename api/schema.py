"""How the OpenAPI schema describes the API: our token authentication (loaded by
ApiConfig.ready) and the schema class (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS)."""

import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import is_serializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_utils import (
    get_flat_serializer_fields,
    get_serializer_fields_with_error_codes,
)
from rest_framework import permissions, serializers

from sources.limits import ListCap


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token issued by an editor: `Authorization: Bearer ct_…`.",
        }


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema, told what it cannot see for itself:

    - anyone may read (DjangoModelPermissionsOrAnonReadOnly: GET needs no credentials);
    - the CSV exports take their list's filters;
    - query parameters follow two rules (api.filters): an empty value means the parameter
      is not given, and no value may contain a NUL character (a 400 naming it);
    - a paged list answers 400 for a `page_size` that is not a page size;
    - a request body given per media type (the snapshot upload's multipart form) is
      validated like any other, with its 400s;
    - a list kept to a cap (api.serializers.CappedManyRelatedField) has that many items
      at most.
    """

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        anonymous_reads = any(
            isinstance(p, permissions.DjangoModelPermissionsOrAnonReadOnly)
            for p in self.view.get_permissions()
        )
        if anonymous_reads and self.method in permissions.SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths

    def get_filter_backends(self) -> list[Any]:
        if self.method == "GET" and getattr(self.view, "export_name", None):
            return list(getattr(self.view, "filter_backends", []))
        return super().get_filter_backends()

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query":
                parameter["schema"] = query_value_schema(parameter["schema"])
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        versioned = getattr(self.view, "needs_if_match", False)
        versioned = versioned and self.method in ("PUT", "PATCH")
        # An action that takes If-Match (a sign-off, a workflow's PATCH) answers 412 and 428 too.
        takes_if_match = any(p.get("name") == "If-Match" for p in self._get_parameters())
        if direction == "response" and (versioned or takes_if_match):
            for code, serializer in PRECONDITION_ERRORS.items():
                responses.setdefault(code, self._get_response_for_code(serializer, code))
        return responses

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        cap = getattr(field, "cap", None)
        if isinstance(cap, ListCap) and schema.get("type") == "array":
            schema["maxItems"] = cap.limit
        return schema

    def media_type_serializer(self) -> Any:
        """The request body's serializer where the operation names it per media type
        (@extend_schema(request={"multipart/form-data": ...})), which drf-standardized-
        errors does not read; None otherwise."""
        if self.method not in ("POST", "PUT", "PATCH"):
            return None
        request = self.get_request_serializer()
        if not isinstance(request, dict):
            return None
        found = [value for value in request.values() if is_serializer(value)]
        return found[0] if found else None

    def _should_add_validation_error_response(self) -> bool:
        return (
            super()._should_add_validation_error_response()
            or self.media_type_serializer() is not None
        )

    def _determine_fields_with_error_codes(self) -> list[Any]:
        """Writes are validated by the model too (full_clean): any field may fail its
        rules ("invalid"), a unique one its uniqueness, and a list's item be null."""
        by_media_type = self.media_type_serializer()
        if by_media_type is not None:
            flat = get_flat_serializer_fields(by_media_type)
            fields = get_serializer_fields_with_error_codes(flat)
        else:
            fields = super()._determine_fields_with_error_codes()
        if self.method not in ("POST", "PUT", "PATCH"):
            return fields
        for field in list(fields):
            # A field that validates with a serializer of its own (FuzzyDateField) reports
            # under its name: `made.edtf`.
            inner = getattr(field.field, "inner_serializer", None)
            if inner is not None:
                flat = get_flat_serializer_fields(inner(), prefix=field.name)
                fields.extend(get_serializer_fields_with_error_codes(flat))
        serializer = self.get_request_serializer()
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        model_fields = model._meta.get_fields() if model else []
        unique = {f.name for f in model_fields if getattr(f, "unique", False)}
        for field in fields:
            field.error_codes = {*field.error_codes, "invalid"}
            if field.name in unique:
                field.error_codes.add("unique")
            if field.name.endswith(f".{LIST_ITEM}"):
                field.error_codes.add("null")
        return fields

    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        errors = super()._get_extra_validation_errors()
        paginator = self._get_paginator()
        page_size = getattr(paginator, "page_size_query_param", None)
        if page_size:
            errors.setdefault(page_size, set()).add("invalid")
        for parameter in super()._get_parameters():
            if parameter["in"] == "query" and is_text(parameter["schema"]):
                errors.setdefault(parameter["name"], set()).add("null_characters_not_allowed")
        return errors


# How drf-standardized-errors names the errors about a list's item as a whole.
LIST_ITEM = "INDEX.non_field_errors"

# What JSON Schema's pattern can say of "no NUL character".
NO_NUL = "^[^\\u0000]*$"


def is_text(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema)


def query_value_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema under the API's two rules: text has no NUL, and an
    empty value stands for "not given" whatever the parameter's type."""
    if is_text(schema):
        return {**schema, "pattern": NO_NUL}
    if schema.get("type") == "array" and "enum" in schema.get("items", {}):
        items = schema["items"]
        return {**schema, "items": {**items, "enum": [*items["enum"], ""]}}
    if schema.get("type") == "string" and "enum" in schema:
        return {**schema, "enum": [*schema["enum"], ""]}
    return {"oneOf": [schema, {"type": "string", "maxLength": 0}]}


def indexed_error_attrs(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-standardized-errors names an error in the n-th item of a list
    `citations.INDEX.source`, while the body says `citations.0.source`; and DRF names an
    error about a list, an item or an object as a whole by just its name (`citations`,
    `citations.0`, `made`) where the schema says `….non_field_errors`. Document such names
    as patterns; a union of error shapes with one then becomes an anyOf without its
    discriminator on `attr` (which can only map fixed values)."""
    schemas = result.get("components", {}).get("schemas", {})
    patterned = set()
    for name, component in schemas.items():
        attr = component.get("properties", {}).get("attr", {})
        values = [str(value) for value in attr.get("enum", [])]
        if any("INDEX" in v or v.endswith(".non_field_errors") for v in values):
            patterns = [
                re.escape(value)
                .replace(re.escape(".non_field_errors"), r"(\.non_field_errors)?")
                .replace("INDEX", "[0-9]+")
                for value in values
            ]
            attr.pop("enum")
            attr["pattern"] = f"^({'|'.join(patterns)})$"
            patterned.add(f"#/components/schemas/{name}")
    for component in schemas.values():
        members = component.get("oneOf", [])
        if any(member.get("$ref") in patterned for member in members):
            component["anyOf"] = component.pop("oneOf")
            component.pop("discriminator", None)
    return result


class PreconditionRequiredErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["precondition_required"], help_text="What failed.")
    detail = serializers.CharField(help_text="What to do about it.")
    attr = serializers.CharField(allow_null=True, help_text="Always null: no field is at fault.")


class PreconditionRequiredResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices, help_text="Whose error.")
    errors = PreconditionRequiredErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="The one error."
    )


class PreconditionFailedErrorSerializer(PreconditionRequiredErrorSerializer):
    code = serializers.ChoiceField(choices=["precondition_failed"], help_text="What failed.")


class PreconditionFailedResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices, help_text="Whose error.")
    errors = PreconditionFailedErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="The one error."
    )
    current = serializers.JSONField(
        help_text="The record as it is now, as GET sends it (its ETag is in the ETag header)."
    )


# What api.views.VersionedUpdateMixin answers a PUT or PATCH without a current If-Match.
PRECONDITION_ERRORS = {
    "412": PreconditionFailedResponseSerializer,
    "428": PreconditionRequiredResponseSerializer,
}
