"""Route templates and route resolution (pure)."""

from __future__ import annotations

import pytest

from devhost.routes import (
    MethodNotAllowed,
    RouteError,
    RouteMatch,
    RouteTable,
    RouteTemplate,
    join_prefix,
)


def values(template: str, path: str) -> dict[str, str] | None:
    return RouteTemplate.parse(template).match(path)


def test_literals_are_case_insensitive_and_params_keep_case() -> None:
    assert values("api/Tenants/{tenant_id}", "/API/tenants/AbC") == {"tenant_id": "AbC"}
    assert values("api/tenants/{tenant_id}", "/api/tenants") is None
    assert values("api/tenants/{tenant_id}", "/api/tenants/a/b") is None


def test_values_are_percent_decoded_per_segment() -> None:
    assert values("api/x/{name}", "/api/x/a%2Fb%20c") == {"name": "a/b c"}


def test_constraints() -> None:
    assert values("i/{id:int}", "/i/42") == {"id": "42"}
    assert values("i/{id:int}", "/i/4x") is None
    assert values("i/{id:int}", "/i/99999999999") is None  # beyond int32
    assert values("i/{id:long}", "/i/99999999999") == {"id": "99999999999"}
    assert values("g/{id:guid}", "/g/8f0e8f6c-8d9b-4d8e-9a6f-2f4b6b1d1a11") is not None
    assert values("g/{id:guid}", "/g/nope") is None
    assert values("a/{w:alpha:length(2,3)}", "/a/abc") == {"w": "abc"}
    assert values("a/{w:alpha:length(2,3)}", "/a/abcd") is None
    assert values("r/{n:int:range(1,10)}", "/r/10") is not None
    assert values("r/{n:int:range(1,10)}", "/r/11") is None
    assert values("m/{n:min(5)}", "/m/4") is None
    assert values("b/{flag:bool}", "/b/True") == {"flag": "True"}
    assert values("x/{code:regex(^[a-z]{{2}}\\d$)}", "/x/ab1") == {"code": "ab1"}
    assert values("x/{code:regex(^[a-z]{{2}}\\d$)}", "/x/abc") is None


def test_optional_default_and_catch_all() -> None:
    assert values("t/{a}/{b?}", "/t/1") == {"a": "1"}
    assert values("t/{a}/{b?}", "/t/1/2") == {"a": "1", "b": "2"}
    assert values("d/{page=1}", "/d") == {"page": "1"}
    assert values("files/{*path}", "/files/a/b/c") == {"path": "a/b/c"}
    assert values("files/{**path}", "/files") == {}


def test_complex_segment() -> None:
    assert values("f/{name}.{ext}", "/f/report.final.pdf") == {"name": "report", "ext": "final.pdf"}


def test_empty_template_matches_root_only() -> None:
    assert values("", "/") == {}
    assert values("", "/x") is None


@pytest.mark.parametrize(
    "template",
    ["a/{id:nosuch}", "a/{id", "a/id}", "{*rest}/tail", "{opt?}/tail", "{a}/{A}", "a/{1bad}"],
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(RouteError):
        RouteTemplate.parse(template)


def test_most_specific_route_wins_whatever_the_order() -> None:
    table: RouteTable[str] = RouteTable(
        [
            ("api/{*rest}", ["GET"], "catch-all"),
            ("api/runs/{id}", ["GET"], "param"),
            ("api/runs/{id:int}", ["GET"], "int"),
            ("api/runs/latest", ["GET"], "literal"),
        ]
    )

    def target(path: str) -> str:
        found = table.resolve("GET", path)
        assert isinstance(found, RouteMatch)
        return found.target

    assert target("/api/runs/latest") == "literal"
    assert target("/api/runs/7") == "int"
    assert target("/api/runs/x") == "param"
    assert target("/api/other/thing") == "catch-all"


def test_method_not_allowed_lists_methods_of_every_matching_route() -> None:
    table: RouteTable[str] = RouteTable(
        [("api/x/{id}", ["GET"], "get"), ("api/x/{id}", ["DELETE"], "delete")]
    )
    found = table.resolve("PUT", "/api/x/1")
    assert isinstance(found, MethodNotAllowed)
    assert found.allowed == ("DELETE", "GET")
    deleted = table.resolve("delete", "/api/x/1")
    assert isinstance(deleted, RouteMatch) and deleted.target == "delete"
    assert table.resolve("GET", "/api/y/1") is None


def test_join_prefix() -> None:
    assert join_prefix("", "api/health") == "api/health"
    assert join_prefix("api", "health") == "api/health"
    assert join_prefix("/api/", "/") == "api"
