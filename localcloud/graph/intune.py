"""/deviceManagement policy collections: list, get, children, create, assign, delete.

Version-aware (localcloud.graph.intune_schema): v1.0 neither serves nor accepts the
types, properties and assignment-filter fields only beta declares.
"""

from __future__ import annotations

from typing import Any

from localcloud.dataset import (
    TARGET_ALL_DEVICES,
    TARGET_ALL_USERS,
    TARGET_EXCLUDE,
    TARGET_GROUP,
    assignment_for,
)
from localcloud.graph import intune_schema as schema
from localcloud.graph.auth import Principal
from localcloud.graph.errors import bad_request, forbidden, not_found
from localcloud.graph.query import QueryError, option, page, select, skip_link
from localcloud.graph.store import Collection, TenantStore
from localcloud.wire import Request, Response, empty, json_response

READ = ("DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All")
WRITE = ("DeviceManagementConfiguration.ReadWrite.All",)
# Server-set: served, and ignored when a client sends them back on create.
READ_ONLY_FIELDS = {
    "id", "createdDateTime", "lastModifiedDateTime", "version", "settingCount", "isAssigned",
    "creationSource", "supportsScopeTags",
}  # fmt: skip
TARGET_TYPES = {TARGET_GROUP, TARGET_EXCLUDE, TARGET_ALL_DEVICES, TARGET_ALL_USERS}
GROUP_TARGET_TYPES = (TARGET_GROUP, TARGET_EXCLUDE)
# /settings pages at 25, read alone or expanded in a list (the expanded collection then
# ends with `settings@odata.nextLink`); assumed, not confirmed, for the expanded form.
SETTINGS_PAGE = 25
RULES = "scheduledActionsForRule"
ACTIONS = "scheduledActionConfigurations"
# deviceComplianceActionType (enum-types).
ACTION_TYPES = frozenset(
    {
        "noAction", "notification", "block", "retire", "wipe",
        "removeResourceAccessProfiles", "pushNotification", "remoteLock",
    }
)  # fmt: skip


def _context(request: Request, version: str, collection: Collection, tail: str = "") -> str:
    return f"{request.base_url}/{version}/$metadata#deviceManagement/{collection.name}{tail}"


def _split_top_level(raw: str) -> list[str]:
    """`a,b($expand=c,d)` -> [`a`, `b($expand=c,d)`]: commas inside parentheses stay."""
    parts, depth, current = [], 0, ""
    for char in raw:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _unknown_property(name: str, entity: str) -> QueryError:
    return QueryError(
        bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{entity}'.")
    )


def _expand(request: Request, collection: Collection) -> dict[str, bool]:
    """Expanded navigation properties -> whether their own children are expanded too.

    Compliance clients read actions as
    `scheduledActionsForRule($expand=scheduledActionConfigurations)`: both are navigation
    properties in the metadata, so each level needs its own $expand.
    """
    wanted: dict[str, bool] = {}
    for part in _split_top_level(option(request, "expand") or ""):
        name, _, nested = part.partition("(")
        name = name.strip()
        allowed = {"assignments"}
        if collection.has_settings:
            allowed.add("settings")
        if collection.name == "deviceCompliancePolicies":
            allowed.add(RULES)
        if name not in allowed:
            raise _unknown_property(name, collection.entity)
        inner = nested.rstrip(")").strip()
        if inner and (name != RULES or inner.replace(" ", "") != f"$expand={ACTIONS}"):
            raise QueryError(bad_request(f"Query option '{inner}' is not supported on '{name}'."))
        wanted[name] = bool(inner)
    return wanted


def _served_assignments(store: TenantStore, policy_id: str, version: str) -> list[dict[str, Any]]:
    return [
        {**a, "target": schema.target_as_served(a["target"], version)}
        for a in store.assignments(policy_id)
    ]


def _with_expansions(
    store: TenantStore,
    request: Request,
    version: str,
    policy: dict[str, Any],
    expand: dict[str, bool],
) -> dict[str, Any]:
    if "assignments" in expand:
        policy["assignments"] = _served_assignments(store, policy["id"], version)
    if "settings" in expand:
        settings = store.settings(policy["id"])
        policy["settings"] = settings[:SETTINGS_PAGE]
        if len(settings) > SETTINGS_PAGE:
            path = f"/{version}/deviceManagement/configurationPolicies/{policy['id']}/settings"
            policy["settings@odata.nextLink"] = skip_link(request.base_url, path, {}, SETTINGS_PAGE)
    if RULES in expand:
        rules = store.scheduled_actions(policy["id"])
        if not expand[RULES]:
            rules = [{k: v for k, v in rule.items() if k != ACTIONS} for rule in rules]
        policy[RULES] = rules
    return policy


def _served(store: TenantStore, collection: Collection, version: str) -> list[dict[str, Any]]:
    served = (schema.as_served(collection.entity, p, version) for p in store.policies(collection))
    return [p for p in served if p is not None]


def _served_policy(
    store: TenantStore, collection: Collection, version: str, policy_id: str
) -> dict[str, Any] | None:
    policy = store.policy(collection, policy_id)
    return None if policy is None else schema.as_served(collection.entity, policy, version)


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
        policies = [
            _with_expansions(store, request, version, p, expand)
            for p in _served(store, collection, version)
        ]
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
    policy = _served_policy(store, collection, version, policy_id)
    if policy is None:
        return _missing(policy_id)
    try:
        expand = _expand(request, collection)
        policy = _with_expansions(store, request, version, policy, expand)
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
    if _served_policy(store, collection, version, policy_id) is None:
        return _missing(policy_id)
    context = _context(request, version, collection, f"('{policy_id}')/{child}")
    if child == "assignments":
        items = _served_assignments(store, policy_id, version)
        return json_response(200, {"@odata.context": context, "value": items})
    try:
        body = page(
            store.settings(policy_id),
            request,
            context=context,
            entity="deviceManagementConfigurationSetting",
            default_top=SETTINGS_PAGE,
        )
    except QueryError as error:
        return error.response
    return json_response(200, body)


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
    try:
        _check_creation(collection, version, body)
    except QueryError as error:
        return error.response
    navigation = schema.NAVIGATION[collection.entity]
    fields = {
        k: v
        for k, v in body.items()
        if k not in READ_ONLY_FIELDS and k not in navigation and not _is_annotation(k)
    }
    created = store.create_policy(
        collection,
        fields,
        settings=body.get("settings") if collection.has_settings else None,
        scheduled_actions=body.get(RULES),
    )
    served = schema.as_served(collection.entity, created, version) or created
    return json_response(
        201, {"@odata.context": _context(request, version, collection, "/$entity"), **served}
    )


def _is_annotation(key: str) -> bool:
    return "@odata." in key and key != "@odata.type"


def _check_creation(collection: Collection, version: str, body: dict[str, Any]) -> None:
    """Raise the 400 Graph answers for a body it cannot take."""
    entity = collection.entity
    odata_type = body.get("@odata.type")
    if collection.has_settings and odata_type in (None, f"#microsoft.graph.{entity}"):
        odata_type = None
    known = schema.properties(entity, odata_type, version)
    if known is None:
        raise QueryError(
            bad_request(
                f"A type named '{odata_type}' could not be resolved by the model; "
                f"expected a derived type of microsoft.graph.{entity}."
            )
        )
    _known_keys(body, known | schema.NAVIGATION[entity], schema.type_name(odata_type) or entity)
    name = body.get(collection.name_field)
    if not isinstance(name, str) or not name.strip():
        raise QueryError(bad_request(f"Property '{collection.name_field}' is required."))
    if collection.has_settings:
        _check_settings(body)
    if collection.name == "deviceCompliancePolicies":
        _check_actions(body.get(RULES))


def _check_settings(body: dict[str, Any]) -> None:
    for field in ("platforms", "technologies"):
        if not isinstance(body.get(field), str):
            raise QueryError(bad_request(f"Property '{field}' is required."))
    settings = body.get("settings")
    if not isinstance(settings, list) or not all(
        isinstance(s, dict) and isinstance(s.get("settingInstance"), dict) for s in settings
    ):
        raise QueryError(
            bad_request("Property 'settings' must be a list of settings with a settingInstance.")
        )
    for setting in settings:
        for key in setting:
            if key not in ("id", "settingInstance", "@odata.type"):
                raise _unknown_property(key, "deviceManagementConfigurationSetting")


def _check_actions(rules: Any) -> None:
    """A compliance policy is created with its actions for noncompliance, exactly one of
    them the block ("Mark device noncompliant", which every policy has and none can lose:
    learn.microsoft.com/mem/intune/protect/actions-for-noncompliance)."""
    if not isinstance(rules, list) or not rules or not all(isinstance(r, dict) for r in rules):
        raise QueryError(
            bad_request(f"Property '{RULES}' is required: one rule with exactly one block action.")
        )
    blocks = 0
    for rule in rules:
        _known_keys(
            rule, schema.RULE_PROPERTIES | {ACTIONS}, "deviceComplianceScheduledActionForRule"
        )
        actions = rule.get(ACTIONS)
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            raise QueryError(bad_request(f"Property '{ACTIONS}' is required on every rule."))
        for action in actions:
            _known_keys(action, schema.ACTION_PROPERTIES, "deviceComplianceActionItem")
            if action.get("actionType") not in ACTION_TYPES:
                raise QueryError(bad_request(f"Invalid actionType '{action.get('actionType')}'."))
            hours = action.get("gracePeriodHours", 0)
            if not isinstance(hours, int) or isinstance(hours, bool) or hours < 0:
                raise QueryError(bad_request("gracePeriodHours must be a non-negative integer."))
            blocks += action["actionType"] == "block"
    if blocks != 1:
        raise QueryError(
            bad_request(
                f"A compliance policy needs exactly one block action in '{RULES}'; got {blocks}."
            )
        )


def _known_keys(item: dict[str, Any], known: frozenset[str] | set[str], entity: str) -> None:
    for key in item:
        if key not in known and not key.startswith("@odata.") and not _is_annotation(key):
            raise _unknown_property(key, entity)


def assign(
    store: TenantStore,
    principal: Principal,
    request: Request,
    version: str,
    collection: Collection,
    policy_id: str,
) -> Response:
    if not principal.has_any(*WRITE):
        return forbidden()
    policy = _served_policy(store, collection, version, policy_id)
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
        try:
            _check_target(store, version, target)
        except QueryError as error:
            return error.response
        assignments.append(assignment_for(policy["id"], target))
    saved = store.replace_assignments(collection, policy_id, assignments)
    return json_response(
        200,
        {"value": [{**a, "target": schema.target_as_served(a["target"], version)} for a in saved]},
    )


def _check_target(store: TenantStore, version: str, target: dict[str, Any]) -> None:
    kind = target["@odata.type"]
    allowed = {"@odata.type"} | ({"groupId"} if kind in GROUP_TARGET_TYPES else set())
    if version == schema.BETA:
        allowed |= set(schema.TARGET_FILTER_FIELDS)
    entity = kind.removeprefix("#microsoft.graph.")
    _known_keys(target, allowed, entity)
    if kind in GROUP_TARGET_TYPES:
        group_id = target.get("groupId")
        if not isinstance(group_id, str) or not store.has_group(group_id):
            raise QueryError(bad_request(f"Group '{group_id}' was not found in the directory."))
    filter_id = target.get(schema.FILTER_ID)
    filter_type = target.get(schema.FILTER_TYPE, "none")
    if filter_type not in schema.FILTER_TYPES:
        raise QueryError(bad_request(f"Invalid assignment filter type '{filter_type}'."))
    if filter_type == "none":
        if filter_id is not None:
            raise QueryError(bad_request("An assignment filter id needs a filter type."))
        return
    if kind == TARGET_EXCLUDE:
        raise QueryError(bad_request("Assignment filters are not supported on excluded groups."))
    if not isinstance(filter_id, str) or not store.has_filter(filter_id):
        raise QueryError(bad_request(f"Assignment filter '{filter_id}' was not found."))


def delete_policy(
    store: TenantStore,
    principal: Principal,
    version: str,
    collection: Collection,
    policy_id: str,
) -> Response:
    if not principal.has_any(*WRITE):
        return forbidden()
    if _served_policy(store, collection, version, policy_id) is None:
        return _missing(policy_id)
    return empty(204) if store.delete_policy(collection, policy_id) else _missing(policy_id)
