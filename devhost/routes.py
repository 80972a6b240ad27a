"""Route templates in the ASP.NET Core syntax the Functions host uses.

Supported: literal segments (case-insensitive), `{name}`, constraints
`{id:int}` / `{id:int:min(1)}` / `{x:regex(^a+$)}`, optional `{x?}`, defaults
`{x=abc}`, catch-all `{*rest}` / `{**rest}`, and segments that mix literals and
parameters such as `{name}.{ext}`. Values are percent-decoded per segment, so an
encoded slash stays inside its segment. When several routes match a path, the
more specific one wins (literal before constrained parameter before parameter
before catch-all, segment by segment), as in ASP.NET Core routing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")


class RouteError(ValueError):
    """A route template the host would reject."""


Check = Callable[[str], bool]


def _int_in(low: int, high: int) -> Check:
    def check(value: str) -> bool:
        return re.fullmatch(r"[+-]?\d+", value) is not None and low <= int(value) <= high

    return check


def _is_float(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _as_int(value: object) -> int:
    return int(str(value))


def _constraint(name: str, args: list[str]) -> Check:
    """The check for one inline constraint; unknown names are an error, as in the host."""
    lowered = name.lower()
    simple: dict[str, Check] = {
        "int": _int_in(-(2**31), 2**31 - 1),
        "long": _int_in(-(2**63), 2**63 - 1),
        "bool": lambda v: v.lower() in {"true", "false"},
        "guid": _is_guid,
        "alpha": lambda v: re.fullmatch(r"[A-Za-z]+", v) is not None,
        "decimal": _is_float,
        "double": _is_float,
        "float": _is_float,
        "datetime": _is_datetime,
        "required": lambda v: v != "",
        "nonfile": lambda v: "." not in v.rsplit("/", 1)[-1],
    }
    if lowered in simple and not args:
        return simple[lowered]
    try:
        if lowered == "min" and len(args) == 1:
            low = _as_int(args[0])
            return lambda v: _int_in(low, 2**63)(v)
        if lowered == "max" and len(args) == 1:
            high = _as_int(args[0])
            return lambda v: _int_in(-(2**63), high)(v)
        if lowered == "range" and len(args) == 2:
            return _int_in(_as_int(args[0]), _as_int(args[1]))
        if lowered == "length" and len(args) in (1, 2):
            low, high = _as_int(args[0]), _as_int(args[-1])
            return lambda v: low <= len(v) <= high
        if lowered == "minlength" and len(args) == 1:
            low = _as_int(args[0])
            return lambda v: len(v) >= low
        if lowered == "maxlength" and len(args) == 1:
            high = _as_int(args[0])
            return lambda v: len(v) <= high
        if lowered == "regex" and len(args) == 1:
            # ASP.NET's regex constraint is unanchored and case-insensitive.
            pattern = re.compile(args[0], re.IGNORECASE)
            return lambda v: pattern.search(v) is not None
    except (ValueError, re.error) as error:
        raise RouteError(f"constraint {name}({','.join(args)}): {error}") from error
    raise RouteError(f"unknown route constraint {name!r}")


@dataclass
class _Param:
    name: str
    checks: list[Check] = field(default_factory=list)
    optional: bool = False
    default: str | None = None
    catch_all: bool = False

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.checks)


def _parse_param(body: str) -> _Param:
    """`name[:constraint[(args)]]*[?|=default]`, with `*`/`**` for catch-all."""
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", body)
    if match is None:
        raise RouteError(f"bad route parameter {{{body}}}")
    param = _Param(match.group(0), catch_all=catch_all)
    rest = body[match.end() :]
    while rest.startswith(":"):
        name_match = re.match(r":([A-Za-z]+)", rest)
        if name_match is None:
            raise RouteError(f"bad constraint in {{{body}}}")
        rest = rest[name_match.end() :]
        args: list[str] = []
        if rest.startswith("("):
            depth, end = 0, -1
            for index, char in enumerate(rest):
                depth += char == "("
                depth -= char == ")"
                if depth == 0:
                    end = index
                    break
            if end < 0:
                raise RouteError(f"unbalanced parentheses in {{{body}}}")
            # Braces inside a parameter are written doubled (`{{2}}`), as in ASP.NET.
            inner = rest[1:end].replace("{{", "{").replace("}}", "}")
            name = name_match.group(1)
            args = [inner] if name.lower() == "regex" else [a.strip() for a in inner.split(",")]
            rest = rest[end + 1 :]
        param.checks.append(_constraint(name_match.group(1), args))
    if rest == "?":
        param.optional = True
    elif rest.startswith("="):
        param.default = rest[1:]
    elif rest:
        raise RouteError(f"bad route parameter {{{body}}}")
    if param.catch_all:
        param.optional = True  # a catch-all also matches nothing
    return param


@dataclass
class _Segment:
    text: str
    pattern: re.Pattern[str]
    params: list[_Param]

    @property
    def is_literal(self) -> bool:
        return not self.params

    @property
    def single(self) -> _Param | None:
        """The parameter when the segment is exactly one parameter."""
        if len(self.params) == 1 and self.pattern.pattern == "(.+)":
            return self.params[0]
        return None

    def rank(self) -> int:
        """Lower is more specific (ASP.NET Core inbound precedence, simplified)."""
        if self.is_literal:
            return 1
        single = self.single
        if single is None:
            return 2  # complex segment: literals and parameters mixed
        if single.catch_all:
            return 5
        return 3 if single.checks else 4


def _parse_segment(text: str) -> _Segment:
    pieces: list[str] = []
    params: list[_Param] = []
    index = 0
    while index < len(text):
        if text.startswith("{{", index) or text.startswith("}}", index):
            pieces.append(re.escape(text[index]))  # an escaped literal brace
            index += 2
        elif text[index] == "{":
            end = _closing_brace(text, index)
            param = _parse_param(text[index + 1 : end])
            params.append(param)
            pieces.append("(.+)")
            index = end + 1
        elif text[index] == "}":
            raise RouteError(f"unmatched '}}' in segment {text!r}")
        else:
            pieces.append(re.escape(text[index]))
            index += 1
    if len(params) > 1 or (params and pieces != ["(.+)"]):
        # Complex segment: parameters are lazy so literal separators split them.
        pieces = ["(.+?)" if p == "(.+)" else p for p in pieces]
        if any(p.catch_all for p in params):
            raise RouteError(f"a catch-all must be a whole segment: {text!r}")
    return _Segment(text, re.compile("".join(pieces), re.IGNORECASE | re.DOTALL), params)


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        depth += text[index] == "{"
        depth -= text[index] == "}"
        if depth == 0:
            return index
    raise RouteError(f"unmatched '{{' in segment {text!r}")


@dataclass
class RouteTemplate:
    template: str
    segments: list[_Segment]

    @classmethod
    def parse(cls, template: str) -> RouteTemplate:
        cleaned = template.strip().strip("/")
        segments = [_parse_segment(part) for part in cleaned.split("/")] if cleaned else []
        for position, segment in enumerate(segments):
            single = segment.single
            last = position == len(segments) - 1
            if single is not None and single.catch_all and not last:
                raise RouteError(f"{template!r}: a catch-all must be the last segment")
            if single is not None and single.optional and not single.catch_all and not last:
                # ASP.NET allows an optional parameter only at the end of the template.
                raise RouteError(f"{template!r}: an optional parameter must come last")
        names = [p.name.lower() for s in segments for p in s.params]
        if len(names) != len(set(names)):
            raise RouteError(f"{template!r}: a parameter name appears twice")
        return cls(template, segments)

    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.rank() for segment in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for `path` (still percent-encoded), or None."""
        stripped = path.strip("/")
        parts = [unquote(p) for p in stripped.split("/")] if stripped else []
        values: dict[str, str] = {}
        for position, segment in enumerate(self.segments):
            single = segment.single
            if single is not None and single.catch_all:
                rest = "/".join(parts[position:])
                if rest and not single.accepts(rest):
                    return None
                if rest:
                    values[single.name] = rest
                return values
            if position >= len(parts):
                if single is not None and (single.optional or single.default is not None):
                    if single.default is not None:
                        values[single.name] = single.default
                    continue
                return None
            found = segment.pattern.fullmatch(parts[position])
            if found is None:
                return None
            for param, value in zip(segment.params, found.groups(), strict=True):
                if not param.accepts(value):
                    return None
                values[param.name] = value
        if len(parts) > len(self.segments):
            return None
        return values


@dataclass
class Route(Generic[T]):
    template: RouteTemplate
    methods: frozenset[str]
    target: T


@dataclass
class RouteMatch(Generic[T]):
    target: T
    route_params: dict[str, str]


@dataclass
class MethodNotAllowed:
    allowed: tuple[str, ...]


class RouteTable(Generic[T]):
    """Routes ordered by specificity; `resolve` gives a match, a 405 or None (404)."""

    def __init__(self, routes: Iterable[tuple[str, Iterable[str], T]] = ()) -> None:
        self._routes: list[Route[T]] = []
        for template, methods, target in routes:
            self.add(template, methods, target)

    def add(self, template: str, methods: Iterable[str], target: T) -> None:
        parsed = RouteTemplate.parse(template)
        self._routes.append(Route(parsed, frozenset(m.upper() for m in methods), target))
        # Stable sort: among equally specific routes, declaration order decides.
        self._routes.sort(key=lambda r: r.template.precedence())

    def __iter__(self) -> Iterator[Route[T]]:
        return iter(self._routes)

    def path_matches(self, path: str) -> list[tuple[Route[T], dict[str, str]]]:
        found = []
        for route in self._routes:
            values = route.template.match(path)
            if values is not None:
                found.append((route, values))
        return found

    def resolve(self, method: str, path: str) -> RouteMatch[T] | MethodNotAllowed | None:
        candidates = self.path_matches(path)
        if not candidates:
            return None
        for route, values in candidates:
            if method.upper() in route.methods:
                return RouteMatch(route.target, values)
        allowed = sorted({m for route, _ in candidates for m in route.methods})
        return MethodNotAllowed(tuple(allowed))


def join_prefix(prefix: str, route: str) -> str:
    """host.json's routePrefix joined to a function's route (an empty prefix adds nothing)."""
    prefix, route = prefix.strip("/"), route.strip("/")
    return f"{prefix}/{route}" if prefix and route else prefix or route
