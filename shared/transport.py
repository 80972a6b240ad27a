"""Headers every HTTP response of the app carries, whatever route answers."""

from __future__ import annotations

# HTTPS only, for a year, remembered by the browser (the site is httpsOnly in Azure; over
# plain HTTP, as in local development, browsers ignore the header).
STRICT_TRANSPORT_SECURITY = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
