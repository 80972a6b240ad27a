import pytest
from pydantic import BaseModel, ConfigDict

from shared.errors import InputInvalid, PayloadTooLarge, UnknownRunType
from shared.run_types.catalogue import build_registry
from shared.runs.run_type import Registry, RunType


class Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    dry_run: bool = False


RT = RunType("demo.thing", "Demo", "A demo.", Inputs, lambda ctx, inputs: None)


def test_normalize_fills_defaults_so_equal_requests_hash_equal() -> None:
    assert RT.normalize({"name": "a"}) == RT.normalize({"name": "a", "dry_run": False})


def test_invalid_inputs_name_the_failing_fields_without_echoing_values() -> None:
    with pytest.raises(InputInvalid) as info:
        RT.normalize({"name": 5, "secret_field": "hunter2"})
    fields = {d["field"] for d in info.value.details}
    assert fields == {"name", "secret_field"}
    assert "hunter2" not in repr(info.value.details)


def test_oversized_inputs_are_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        RT.normalize({"name": "x" * 20_000})


def test_registry_lookup_and_duplicates() -> None:
    registry = Registry([RT])
    assert registry.get("demo.thing") is RT and "demo.thing" in registry
    with pytest.raises(UnknownRunType):
        registry.get("nope")
    with pytest.raises(ValueError):
        registry.register(RT)
    assert RT.json_schema()["required"] == ["name"]


def test_diagnostics_type_is_only_registered_when_asked_for() -> None:
    assert "diagnostics.noop" not in build_registry(include_diagnostics=False)
    assert "diagnostics.noop" in build_registry(include_diagnostics=True)
