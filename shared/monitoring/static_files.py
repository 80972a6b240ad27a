"""Serve the monitoring page's files: a fixed allow-list, strict headers, ETag revalidation.

No build step: the files in `static/` are served as they are. They are small and change
only with a deployment, so they are read once per process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.transport import STRICT_TRANSPORT_SECURITY

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# No inline script or style, nothing from another origin, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    **STRICT_TRANSPORT_SECURITY,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


@cache
def _files() -> dict[str, StaticFile]:
    files = {}
    for path in sorted(STATIC_DIR.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if path.is_file() and content_type:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            files[path.name] = StaticFile(body, content_type, etag)
    return files


def lookup(path: str) -> StaticFile | None:
    """The file for a request path under /monitoring/, or None. Only top-level names exist:
    no directories, so no traversal is possible."""
    name = path.strip("/") or "index.html"
    return _files().get(name)


def headers_for(file: StaticFile) -> dict[str, str]:
    # `no-cache` = revalidate every time (cheap with the ETag); the files are not
    # content-hashed, so a long max-age would pin old code after a deployment.
    return {**SECURITY_HEADERS, "Cache-Control": "no-cache", "ETag": file.etag}
