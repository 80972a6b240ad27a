"""Microsoft Graph access: msal tokens per managed tenant, httpx with Graph conventions."""

from shared.graph.auth import BearerTokenAuth, GraphAppAuth
from shared.graph.batch import BatchRequest, BatchResponse
from shared.graph.client import GraphClient
from shared.graph.credentials import (
    GRAPH_DEFAULT_SCOPE,
    CertificateCredential,
    GraphCredentials,
)
from shared.graph.errors import (
    DelegatedTokenUnavailable,
    GraphAuthError,
    GraphBadRequest,
    GraphError,
    GraphForbidden,
    GraphMalformedResponse,
    GraphNotFound,
    GraphOutcomeUnknown,
    GraphServerError,
    GraphThrottled,
    GraphTransientError,
)
from shared.graph.retry import RetryPolicy, parse_retry_after
from shared.graph.tokens import MsalApps, TokenProvider, acquire_on_behalf_of, default_apps

__all__ = [
    "GRAPH_DEFAULT_SCOPE",
    "BatchRequest",
    "BatchResponse",
    "BearerTokenAuth",
    "CertificateCredential",
    "DelegatedTokenUnavailable",
    "GraphAppAuth",
    "GraphAuthError",
    "GraphBadRequest",
    "GraphClient",
    "GraphCredentials",
    "GraphError",
    "GraphForbidden",
    "GraphMalformedResponse",
    "GraphNotFound",
    "GraphOutcomeUnknown",
    "GraphServerError",
    "GraphThrottled",
    "GraphTransientError",
    "MsalApps",
    "RetryPolicy",
    "TokenProvider",
    "acquire_on_behalf_of",
    "default_apps",
    "parse_retry_after",
]
