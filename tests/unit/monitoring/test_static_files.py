"""The page is served from an allow-list with strict headers, and uses no inline script."""

from __future__ import annotations

import re

from shared.monitoring.static_files import STATIC_DIR, headers_for, lookup


def test_index_and_assets_are_served_with_types_and_security_headers() -> None:
    index = lookup("")
    assert index is not None and index.content_type.startswith("text/html")
    assert lookup("app.js").content_type.startswith("text/javascript")  # type: ignore[union-attr]
    headers = headers_for(index)
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-cache" and headers["ETag"].startswith('"')


def test_nothing_outside_the_allow_list_is_served() -> None:
    for path in (
        "../static_files.py",
        "..%2fstatic_files.py",
        "/etc/passwd",
        "static_files.py",
        "__init__.py",
        "index.html/..",
        "nope.js",
    ):
        assert lookup(path) is None, path


def test_the_page_has_no_inline_script_or_handlers_and_never_uses_inner_html() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.search(r"\son[a-z]+=", html) is None
    assert "style=" not in html
    scripts = sorted(STATIC_DIR.glob("*.js"))
    assert len(scripts) > 1  # the modules app.js imports
    for script in scripts:
        js = script.read_text()
        assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
        assert "outerHTML" not in js and "document.write" not in js, script.name


def test_every_module_the_page_imports_is_served() -> None:
    for script in STATIC_DIR.glob("*.js"):
        for name in re.findall(r'from "\./([\w.-]+)"', script.read_text()):
            assert lookup(name) is not None, f"{script.name} imports {name}"
