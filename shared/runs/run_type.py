"""The run-type interface the run core owns: a declaration (name, title, description,
input model, summary line) and a handler, and the registry the service and the worker
look them up in by name. A declaration alone is what the catalogue shows; it needs none
of what the handler needs (Graph, stores).

The run types themselves (shared.run_types) implement this interface and depend on the
run core; the run core never imports them (an import-linter layers contract)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from shared.errors import InputInvalid, PayloadTooLarge, UnknownRunType

if TYPE_CHECKING:
    from shared.runs.context import RunContext

# Inputs are stored in one string property; keep well clear of its 64 KiB limit.
MAX_INPUTS_JSON_CHARS = 16 * 1024

Handler = Callable[["RunContext", Any], "dict[str, Any] | None"]
# One line that tells runs of a type apart in a list (label, policy count, backup set),
# computed from the normalized inputs when the run is created and stored on its row.
Summarize = Callable[[dict[str, Any]], str]
MAX_SUMMARY_CHARS = 120


def _no_summary(inputs: dict[str, Any]) -> str:
    return ""


@dataclass(frozen=True)
class RunTypeDeclaration:
    """What a run type is, without what it does."""

    name: str
    title: str
    description: str
    input_model: type[BaseModel]
    summarize: Summarize = field(default=_no_summary, kw_only=True)

    def with_handler(self, handler: Handler) -> RunType:
        return RunType(
            self.name,
            self.title,
            self.description,
            self.input_model,
            handler,
            summarize=self.summarize,
        )

    def summary(self, normalized: dict[str, Any]) -> str:
        text = " ".join(self.summarize(normalized).split())  # one line, whatever came in
        return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1] + "…"

    def parse(self, inputs: Any) -> BaseModel:
        try:
            return self.input_model.model_validate(inputs if inputs is not None else {})
        except ValidationError as error:
            raise InputInvalid(
                f"inputs for {self.name} are not valid",
                details=[
                    {"field": ".".join(str(p) for p in e["loc"]) or "inputs", "message": e["msg"]}
                    for e in error.errors(include_input=False, include_url=False)
                ],
            ) from None

    def normalize(self, inputs: Any) -> dict[str, Any]:
        """Validated inputs with defaults filled in: the form that is stored and hashed."""
        normalized = self.parse(inputs).model_dump(mode="json")
        size = len(json.dumps(normalized, separators=(",", ":")))
        if size > MAX_INPUTS_JSON_CHARS:
            raise PayloadTooLarge(
                f"inputs are {size} characters; the limit is {MAX_INPUTS_JSON_CHARS}",
                details={"field": "inputs", "limit": MAX_INPUTS_JSON_CHARS},
            )
        return normalized

    def json_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()


@dataclass(frozen=True)
class RunType(RunTypeDeclaration):
    """A declaration and its handler: what the service and the worker run."""

    handler: Handler


class Registry:
    def __init__(self, run_types: list[RunType] | None = None) -> None:
        self._types: dict[str, RunType] = {}
        for run_type in run_types or []:
            self.register(run_type)

    def register(self, run_type: RunType) -> RunType:
        if run_type.name in self._types:
            raise ValueError(f"run type {run_type.name} is registered twice")
        self._types[run_type.name] = run_type
        return run_type

    def get(self, name: str) -> RunType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownRunType(
                f"unknown run type: {name[:100]}", details={"known": sorted(self._types)}
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[RunType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))
