"""A local stand-in for the Azure Functions host (dev and tests only; never deployed).

`python -m devhost serve` serves function_app.py; tests use `DevHost` directly.
"""

from devhost.host import DevHost
from devhost.settings import LocalSettings

__all__ = ["DevHost", "LocalSettings"]
