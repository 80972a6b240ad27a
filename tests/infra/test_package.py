"""What a deployment uploads: the package a zip deploy builds, honouring .funcignore.

Built from this working tree (which may hold .localcloud/ keys, .azurite/ data and
node_modules/ after `make dev`): nothing dev or test only, no private key, and the app
imports from the unpacked package alone and lists its functions.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = (
    "localcloud",
    "devhost",
    "devstack",
    "tests",
    "bench",
    "infra",
    "node_modules",
    ".localcloud",
)
# A PEM private key block (its header, then base64), not a mention of one in code.
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40,}")


def ignore_patterns(path: Path = ROOT / ".funcignore") -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "negation is not used (nor read here)"
    return patterns


def ignored(relative: str, is_dir: bool, patterns: list[str]) -> bool:
    """gitignore matching for what .funcignore uses: `name`, `name/` (directories only),
    `*.ext`, and `a/b` (anchored at the root)."""
    parts = relative.split("/")
    for pattern in patterns:
        directory_only = pattern.endswith("/")
        body = pattern.rstrip("/").lstrip("/")
        if directory_only and not is_dir:
            continue
        if "/" in body:
            if fnmatch.fnmatch(relative, body):
                return True
        elif fnmatch.fnmatch(parts[-1], body):
            return True
    return False


def package_files(root: Path, patterns: list[str]) -> Iterator[Path]:
    for current, dirs, files in os.walk(root):
        base = Path(current)
        rel = base.relative_to(root).as_posix()
        prefix = "" if rel == "." else f"{rel}/"
        dirs[:] = [d for d in dirs if not ignored(prefix + d, True, patterns)]
        for name in files:
            if not ignored(prefix + name, False, patterns):
                yield base / name


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip a deployment uploads, unpacked into a directory of its own."""
    patterns = ignore_patterns()
    archive = tmp_path_factory.mktemp("package") / "app.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in package_files(ROOT, patterns):
            zipped.write(path, path.relative_to(ROOT).as_posix())
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpacked)
    return unpacked


def test_the_key_check_finds_a_key() -> None:
    pem = b"-----BEGIN PRIVATE KEY-----\n" + b"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg" * 2
    assert PRIVATE_KEY.search(pem)
    assert not PRIVATE_KEY.search(b'"-----BEGIN PRIVATE KEY-----" in text')


def test_the_matcher_reads_funcignore_as_gitignore_does() -> None:
    patterns = ignore_patterns()
    for path, is_dir in [
        (".localcloud", True),
        (".azurite", True),
        ("node_modules", True),
        ("localcloud", True),
        ("package.json", False),
        ("package-lock.json", False),
        ("shared/__pycache__", True),
        ("shared/x.pyc", False),
    ]:
        assert ignored(path, is_dir, patterns), path
    for path, is_dir in [
        ("shared", True),
        ("function_app.py", False),
        ("host.json", False),
        ("requirements.txt", False),
        ("shared/monitoring/static/app.js", False),
    ]:
        assert not ignored(path, is_dir, patterns), path


def test_the_package_holds_the_app_and_nothing_dev_only(package: Path) -> None:
    top = {p.name for p in package.iterdir()}
    assert {"function_app.py", "host.json", "requirements.txt", "functions", "shared"} <= top
    assert not top & set(DEV_ONLY), top & set(DEV_ONLY)
    assert not [p for p in top if p.startswith("package") and p.endswith(".json")]
    assert (package / "shared" / "monitoring" / "static" / "index.html").exists()
    for path in package.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not PRIVATE_KEY.search(data), path


def test_the_app_imports_from_the_package_alone(package: Path) -> None:
    """In a fresh interpreter that sees only the package and the installed requirements
    (what the platform's build installs), never this repository."""
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(package)!r})\n"
        f"sys.path = [p for p in sys.path if not p.startswith({str(ROOT)!r}) "
        "or '.venv' in p]\n"
        "import function_app\n"
        "assert function_app.__file__.startswith(sys.path[0]), function_app.__file__\n"
        "for name in ('devhost', 'devstack', 'localcloud', 'tests'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ImportError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit(f'{name} is importable from the package')\n"
        "app = function_app.app\n"
        "print(json.dumps(sorted(f.get_function_name() for f in app.get_functions())))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    names = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"run_worker", "run_reaper", "run_retention", "api_start_run"} <= set(names)
    assert {"api_list_tenants", "monitoring_page", "api_health"} <= set(names)
