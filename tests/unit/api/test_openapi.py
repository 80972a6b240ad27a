"""The OpenAPI document: valid OpenAPI 3.1, and exactly the HTTP routes function_app serves."""

from __future__ import annotations

import json
import re

import schemathesis

from devhost.loader import _get_functions
from shared.api.openapi import BEARER, document
from shared.api.routes import ROUTES

# Not part of the API: the static monitoring page (served beside it, not described).
NOT_API = {"monitoring/{*path}"}


def _app_routes() -> set[tuple[str, str]]:
    import function_app

    routes: set[tuple[str, str]] = set()
    for function in _get_functions(function_app.app):
        trigger = function.get_trigger()
        if getattr(trigger, "type", "") != "httpTrigger" or trigger.route in NOT_API:
            continue
        for method in trigger.methods or []:
            routes.add((str(getattr(method, "value", method)).lower(), "/" + trigger.route))
    return routes


def test_the_document_is_valid_openapi_31() -> None:
    raw = document()
    assert raw["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(raw).validate()
    json.dumps(raw)  # plain JSON


def test_every_route_of_the_app_is_described_and_nothing_else() -> None:
    described = {(method, path) for path, item in document()["paths"].items() for method in item}
    assert described == _app_routes()


def test_security_and_statuses() -> None:
    for op in ROUTES:
        spec = document()["paths"][op.path][op.method]
        statuses = set(spec["responses"])
        if op.secured:
            assert spec["security"] == [{BEARER: []}]
            assert {"401", "503"} <= statuses, op.operation_id
        else:
            assert spec["security"] == []
        if "{tenant_id}" in op.path:
            assert "404" in statuses
        if op.method != "get" and "{tenant_id}" in op.path:
            assert "403" in statuses, op.operation_id  # readonly members
        for name in re.findall(r"{(\w+)}", op.path):
            assert name in {p["name"] for p in spec["parameters"] if p["in"] == "path"}


def test_start_documents_the_design_statuses_and_headers() -> None:
    start = document()["paths"]["/api/tenants/{tenant_id}/operations"]["post"]
    assert set(start["responses"]) == {
        "200", "202", "400", "401", "403", "404", "409", "413", "415", "422", "503",
    }  # fmt: skip
    assert set(start["responses"]["202"]["headers"]) == {"Location", "Retry-After"}
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StartRequest"
    }


def test_errors_use_the_error_body_and_refs_resolve() -> None:
    raw = document()
    text = json.dumps(raw)
    for ref in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert ref in raw["components"]["schemas"], ref
    for path, item in raw["paths"].items():
        for method, spec in item.items():
            for status, reply in spec["responses"].items():
                if int(status) >= 400 and not (path.endswith("/operations") and status == "503"):
                    schema = reply["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)


def test_query_parameters_come_from_the_request_models() -> None:
    listing = document()["paths"]["/api/tenants/{tenant_id}/operations"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert set(params) == {"tenant_id", "type", "status", "outcome", "initiator", "limit", "cursor"}
    assert params["limit"]["schema"] == {
        "default": 50,
        "maximum": 200,
        "minimum": 1,
        "type": "integer",
    }
    assert params["status"]["schema"] == {"$ref": "#/components/schemas/RunStatus"}
    assert not any(p["required"] for n, p in params.items() if n != "tenant_id")


def _registered() -> dict[str, tuple[str, frozenset[str]]]:
    """function name -> (route, methods) as function_app registers them."""
    import function_app

    out: dict[str, tuple[str, frozenset[str]]] = {}
    for function in _get_functions(function_app.app):
        trigger = function.get_trigger()
        if getattr(trigger, "type", "") != "httpTrigger" or trigger.route in NOT_API:
            continue
        methods = frozenset(str(getattr(m, "value", m)).lower() for m in trigger.methods or [])
        out[function.get_function_name()] = (trigger.route, methods)
    return out


def test_each_route_of_the_table_is_the_function_registered_for_it() -> None:
    """The route table is the one declaration: the registered functions' names, routes and
    methods are exactly the table's."""
    expected: dict[str, tuple[str, set[str]]] = {}
    for op in ROUTES:
        route, methods = expected.setdefault(op.function, (op.route, set()))
        assert route == op.route, op.operation_id
        methods.add(op.method)
    assert _registered() == {name: (r, frozenset(m)) for name, (r, m) in expected.items()}


def test_auth_rules_match_the_documented_replies() -> None:
    for op in ROUTES:
        spec = document()["paths"][op.path][op.method]
        if op.auth == "writer":
            assert "403" in spec["responses"], op.operation_id
        if op.auth in {"member", "writer"} and "tenant_id" in op.path_params:
            assert "404" in spec["responses"], op.operation_id
