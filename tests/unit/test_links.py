"""A run's links quote exactly as urllib's `quote` does, whatever the ids hold."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from shared.runs.links import Links

LINKS = Links("https://app.example.test/")


@given(st.text(), st.text())
def test_links_quote_any_id_as_quote_does(tenant_id: str, run_id: str) -> None:
    assert LINKS.run(tenant_id, run_id) == (
        f"https://app.example.test/api/tenants/{quote(tenant_id)}/operations/{quote(run_id)}"
    )
    assert LINKS.view(tenant_id, run_id) == (
        f"https://app.example.test/monitoring/#/tenants/{quote(tenant_id)}/runs/{quote(run_id)}"
    )


def test_ids_of_unreserved_characters_are_kept_and_others_quoted() -> None:
    tenant = "0b6d0d5e-6d3c-4c1a-9a8e-2f7f6f1e2d3c"
    assert LINKS.run(tenant, "01JDX~a.b_c") == (
        f"https://app.example.test/api/tenants/{tenant}/operations/01JDX~a.b_c"
    )
    assert LINKS.view("a b", "x/y?z#") == (
        "https://app.example.test/monitoring/#/tenants/a%20b/runs/x/y%3Fz%23"
    )
