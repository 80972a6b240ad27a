"""/deviceManagement policy collections: list, get, assignments, create, assign, delete."""

from __future__ import annotations

from typing import Any

from localcloud.dataset import (
    TARGET_ALL_DEVICES,
    TARGET_ALL_USERS,
    TARGET_EXCLUDE,
    TARGET_GROUP,
    assignment_for,
)
from localcloud.graph.auth import Principal
from localcloud.graph.errors import bad_request, forbidden, not_found
from localcloud.graph.query import QueryError, option, page, select
from localcloud.graph.store import Collection, TenantStore
from localcloud.wire import Request, Response, empty, json_response

READ = ("DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All")
WRITE = ("DeviceManagementConfiguration.ReadWrite.All",)
READ_ONLY_FIELDS = {
    "id", "createdDateTime", "lastModifiedDateTime", "version", "settingCount", "isAssigned",
    "assignments", "settings", "scheduledActionsForRule", "@odata.context", "@odata.id",
}  # fmt: skip
TARGET_TYPES = {TARGET_GROUP, TARGET_EXCLUDE, TARGET_ALL_DEVICES, TARGET_ALL_USERS}
# The @odata.type suffixes each collection accepts on create.
TYPE_SUFFIX = {
    "deviceConfigurations": "Configuration",
    "deviceCompliancePolicies": "CompliancePolicy",
}


def _context(request: Request, version: str, collection: Collection, tail: str = "") -> str:
    return f"{request.base_url}/{version}/$metadata#deviceManagement/{collection.name}{tail}"


def _expand(request: Request, collection: Collection) -> set[str]:
    raw = option(request, "expand") or ""
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    allowed = {"assignments", "settings"} if collection.has_settings else {"assignments"}
    unknown = wanted - allowed
    if unknown:
        raise QueryError(
            bad_request(
                f"Could not find a property named '{sorted(unknown)[0]}' on type "
                f"'microsoft.graph.{collection.entity}'."
            )
        )
    return wanted


def _with_expansions(
    store: TenantStore, policy: dict[str, Any], expand: set[str]
) -> dict[str, Any]:
    if "assignments" in expand:
        policy["assignments"] = store.assignments(policy["id"])
    if "settings" in expand:
        policy["settings"] = store.settings(policy["id"])
    return policy


def _missing(policy_id: str) -> Response:
    return not_found(f"No entity with key '{policy_id}' was found.")


def list_policies(
    store: TenantStore, principal: Principal, request: Request, version: str, collection: Collection
) -> Response:
    if not principal.has_any(*READ):
        return forbidden()
    if option(request, "filter") or option(request, "search"):
        return bad_request("Query option not supported by the local cloud for this collection.")
    try:
        expand = _expand(request, collection)
        policies = [_with_expansions(store, p, expand) for p in store.policies(collection)]
        body = page(
            policies,
            request,
            context=_context(request, version, collection),
            entity=collection.entity,
            default_top=collection.default_top,
        )
    except QueryError as error:
        return error.response
    return json_response(200, body)


def get_policy(
    store: TenantStore,
    principal: Principal,
    request: Request,
    version: str,
    collection: Collection,
    policy_id: str,
) -> Response:
    if not principal.has_any(*READ):
        return forbidden()
    policy = store.policy(collection, policy_id)
    if policy is None:
        return _missing(policy_id)
    try:
        policy = _with_expansions(store, policy, _expand(request, collection))
        policy = select([policy], request, collection.entity)[0]
    except QueryError as error:
        return error.response
    return json_response(
        200, {"@odata.context": _context(request, version, collection, "/$entity"), **policy}
    )


def list_children(
    store: TenantStore,
    principal: Principal,
    request: Request,
    version: str,
    collection: Collection,
    policy_id: str,
    child: str,
) -> Response:
    if not principal.has_any(*READ):
        return forbidden()
    if store.policy(collection, policy_id) is None:
        return _missing(policy_id)
    items = store.assignments(policy_id) if child == "assignments" else store.settings(policy_id)
    context = _context(request, version, collection, f"('{policy_id}')/{child}")
    return json_response(200, {"@odata.context": context, "value": items})


def create_policy(
    store: TenantStore, principal: Principal, request: Request, version: str, collection: Collection
) -> Response:
    if not principal.has_any(*WRITE):
        return forbidden()
    try:
        body = request.json()
    except ValueError:
        return bad_request("Unable to read JSON request payload.")
    if not isinstance(body, dict):
        return bad_request("The request body must be a JSON object.")
    problem = _creation_problem(collection, body)
    if problem:
        return bad_request(problem)
    fields = {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}
    created = store.create_policy(
        collection,
        fields,
        settings=body.get("settings") if collection.has_settings else None,
        scheduled_actions=body.get("scheduledActionsForRule"),
    )
    return json_response(
        201, {"@odata.context": _context(request, version, collection, "/$entity"), **created}
    )


def _creation_problem(collection: Collection, body: dict[str, Any]) -> str | None:
    if (
        not isinstance(body.get(collection.name_field), str)
        or not body[collection.name_field].strip()
    ):
        return f"Property '{collection.name_field}' is required."
    if collection.has_settings:
        for field in ("platforms", "technologies"):
            if not isinstance(body.get(field), str):
                return f"Property '{field}' is required."
        settings = body.get("settings")
        if not isinstance(settings, list) or not all(
            isinstance(s, dict) and isinstance(s.get("settingInstance"), dict) for s in settings
        ):
            return "Property 'settings' must be a list of settings with a settingInstance."
        return None
    odata_type = body.get("@odata.type")
    suffix = TYPE_SUFFIX[collection.name]
    if (
        not isinstance(odata_type, str)
        or not odata_type.startswith("#microsoft.graph.")
        or not odata_type.endswith(suffix)
    ):
        return (
            f"A type named '{odata_type}' could not be resolved by the model; "
            f"expected a derived type of microsoft.graph.{collection.entity}."
        )
    if collection.name == "deviceCompliancePolicies":
        actions = body.get("scheduledActionsForRule")
        if not isinstance(actions, list) or not actions:
            return "At least one scheduledActionsForRule with a block action is required."
    return None


def assign(
    store: TenantStore,
    principal: Principal,
    request: Request,
    collection: Collection,
    policy_id: str,
) -> Response:
    if not principal.has_any(*WRITE):
        return forbidden()
    policy = store.policy(collection, policy_id)
    if policy is None:
        return _missing(policy_id)
    try:
        body = request.json()
    except ValueError:
        return bad_request("Unable to read JSON request payload.")
    raw = body.get("assignments") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        return bad_request("Property 'assignments' is required and must be a list.")
    assignments = []
    for item in raw:
        target = item.get("target") if isinstance(item, dict) else None
        if not isinstance(target, dict) or target.get("@odata.type") not in TARGET_TYPES:
            return bad_request("Each assignment needs a target with a supported @odata.type.")
        if target["@odata.type"] in (TARGET_GROUP, TARGET_EXCLUDE):
            group_id = target.get("groupId")
            if not isinstance(group_id, str) or not store.has_group(group_id):
                return bad_request(f"Group '{group_id}' was not found in the directory.")
        assignments.append(assignment_for(policy["id"], target))
    saved = store.replace_assignments(collection, policy_id, assignments)
    return json_response(200, {"value": saved})


def delete_policy(
    store: TenantStore, principal: Principal, collection: Collection, policy_id: str
) -> Response:
    if not principal.has_any(*WRITE):
        return forbidden()
    return empty(204) if store.delete_policy(collection, policy_id) else _missing(policy_id)
