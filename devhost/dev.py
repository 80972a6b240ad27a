"""`python -m devhost dev` (what `make dev` runs) and `python -m devhost token`.

dev: Azurite (data in .azurite/), the local Entra/Graph on https://127.0.0.1:7443 (state
in .localcloud/), local.settings.json from the sample when missing, the demo tenants and
members, then the host on :7071 until Ctrl-C stops everything. A second
`python -m devhost serve --port N` reads the same local.settings.json, so it joins the
same storage and local Entra/Graph as another Functions instance would.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
from pathlib import Path

import httpx

from devhost.localstack import (
    AUTH_ENABLED_SETTING,
    LOCALCLOUD_PORT,
    STATE_FILE,
    TRUST_PRINCIPAL_SETTING,
    demo_easy_auth,
    local_values,
    seed_demo,
    start_dev_azurite,
    write_local_settings,
)
from devhost.settings import LocalSettings, expand_development_storage
from localcloud.seed import (
    API_APP_ROLES,
    API_AUDIENCE,
    AUTOMATION_CLIENT_ID,
    CONTOSO_TENANT_ID,
)

DEFAULT_PORT = 7071


def banner(base_url: str) -> str:
    return "\n".join(
        [
            "",
            "Intune operation runs, running locally:",
            f"  monitoring page  {base_url}/monitoring/  (sign in as operator, viewer or outsider)",
            f"  API base URL     {base_url}/api  (health: {base_url}/api/health)",
            "  a bearer token   python -m devhost token --user operator|viewer|outsider",
            "                   python -m devhost token --app   (app-only automation client)",
            "  for example      TOKEN=$(.venv/bin/python -m devhost token --user operator)",
            f'                   curl -H "Authorization: Bearer $TOKEN" {base_url}/api/tenants',
            "Ctrl+C stops the host, the local Entra/Graph and Azurite.",
            "",
        ]
    )


def dev(args: argparse.Namespace, serve: object) -> int:
    if args.as_deployed:
        return dev_as_deployed(args, serve)
    from localcloud import LocalCloud

    root = args.script_root.resolve()
    azurite = start_dev_azurite(root)
    cloud = None
    try:
        state = root / ".localcloud"
        state.mkdir(exist_ok=True)
        cloud = LocalCloud.start(port=args.cloud_port, state_dir=state)
        (state / STATE_FILE).write_text(json.dumps(cloud.info(), indent=2), encoding="utf-8")
        path = write_local_settings(root, local_values(cloud.base_url, cloud.ca_path))
        settings = LocalSettings.load(path)
        settings.apply_to(os.environ)
        from shared.persistence.clients import StorageClients

        storage = os.environ.get("AzureWebJobsStorage", "UseDevelopmentStorage=true")
        seed_demo(StorageClients.from_connection_string(expand_development_storage(storage)))
        port = args.port if args.port is not None else settings.local_http_port or DEFAULT_PORT
        # App Service Authentication in front of the host, as in Azure: it strips
        # client-sent principal headers, so the app may trust the ones it injects. Set in
        # this process only: a bare `devhost serve` has no such front and must not trust.
        os.environ[TRUST_PRINCIPAL_SETTING] = "true"
        os.environ[AUTH_ENABLED_SETTING] = "True"  # as App Service sets it
        args.easy_auth = demo_easy_auth(cloud)
        print(banner(f"http://localhost:{port}"), flush=True)
        args.port = port
        return serve(args)  # type: ignore[operator, no-any-return]
    finally:
        if cloud is not None:
            cloud.stop()
        if azurite is not None:
            azurite.terminate()
            try:
                azurite.wait(timeout=10)
            except Exception:  # noqa: BLE001 - best effort on the way out
                azurite.kill()


def dev_as_deployed(args: argparse.Namespace, serve: object) -> int:
    """The app with the settings infra/ deploys: storage through the managed identity only
    (an in-memory Azurite over HTTPS that checks bearer tokens, on free ports unless
    --storage-port is given), App Service Authentication in front, no local.settings.json
    and no AzureWebJobsStorage. The local Entra/Graph keeps .localcloud/ (its CA)."""
    from azure.identity import DefaultAzureCredential

    from devhost.as_deployed import FORBIDDEN, LocalPlatform, deployed_settings
    from devhost.azurite import start_azurite_process
    from localcloud import LocalCloud
    from localcloud.tls import SERVER_CERT_FILE, SERVER_KEY_FILE
    from shared.persistence.clients import AZURITE_ACCOUNT, StorageClients, StorageEndpoints

    root = args.script_root.resolve()
    state = root / ".localcloud"
    state.mkdir(exist_ok=True)
    cloud = LocalCloud.start(port=args.cloud_port, state_dir=state)
    azurite = None
    try:
        (state / STATE_FILE).write_text(json.dumps(cloud.info(), indent=2), encoding="utf-8")
        base = args.storage_port
        ports = (base, base + 1, base + 2) if base else None
        azurite, (blob, queue, table) = start_azurite_process(
            root, ports, tls=(state / SERVER_CERT_FILE, state / SERVER_KEY_FILE)
        )
        port = args.port if args.port is not None else DEFAULT_PORT
        uris = [f"https://127.0.0.1:{p}/{AZURITE_ACCOUNT}" for p in (blob, queue, table)]
        platform = LocalPlatform(
            cloud_base_url=cloud.base_url,
            ca_path=cloud.ca_path,
            blob_uri=uris[0],
            queue_uri=uris[1],
            table_uri=uris[2],
            public_base_url=f"http://localhost:{port}",
            identity=cloud.managed_identity().environment,
        )
        for name in FORBIDDEN:
            os.environ.pop(name, None)
        os.environ.update(deployed_settings(platform))
        # What `azd provision` creates, and the demo tenants an operator would add.
        seed_demo(StorageClients.from_identity(StorageEndpoints(*uris), DefaultAzureCredential()))
        args.settings = state / "no-local-settings.json"  # as deployed: none
        args.easy_auth = demo_easy_auth(cloud)
        args.port = port
        print(banner(f"http://localhost:{port}"), flush=True)
        print(f"  as deployed: storage by identity only, Azurite on {blob}-{table}", flush=True)
        return serve(args)  # type: ignore[operator, no-any-return]
    finally:
        cloud.stop()
        if azurite is not None:
            azurite.terminate()
            azurite.wait(timeout=10)


def token(args: argparse.Namespace) -> int:
    """Print a bearer token for our API from the running local Entra (see `dev`)."""
    state = args.script_root.resolve() / ".localcloud" / STATE_FILE
    if not state.exists():
        print("The local Entra is not running: start `make dev` first.", file=sys.stderr)
        return 2
    info = json.loads(state.read_text(encoding="utf-8"))
    context = ssl.create_default_context(cafile=info["ca_path"])
    if args.app:
        path, body = (
            "/_admin/tokens/app",
            {
                "tenant_id": CONTOSO_TENANT_ID,
                "audience": API_AUDIENCE,
                "roles": list(API_APP_ROLES),
                "client_id": AUTOMATION_CLIENT_ID,
            },
        )
    else:
        path, body = "/_admin/tokens/user", {"user": args.user, "audience": API_AUDIENCE}
    try:
        reply = httpx.post(info["base_url"] + path, json=body, verify=context, timeout=10)
    except httpx.HTTPError as error:
        print(f"The local Entra did not answer ({error}); is `make dev` running?", file=sys.stderr)
        return 2
    if reply.status_code != 200:
        print(f"No token: {reply.text}", file=sys.stderr)
        return 1
    print(reply.json()["access_token"])
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("dev", help="Azurite + local Entra/Graph + seed + serve")
    run.add_argument("--script-root", type=Path, default=Path.cwd())
    run.add_argument("--port", type=int, help="HTTP port (default 7071)")
    run.add_argument("--cloud-port", type=int, default=LOCALCLOUD_PORT)
    run.add_argument(
        "--as-deployed",
        action="store_true",
        help="the app settings infra/ deploys: storage by managed identity only",
    )
    run.add_argument(
        "--storage-port",
        type=int,
        default=0,
        help="--as-deployed: Azurite's blob port (queue +1, table +2; default free ports)",
    )
    run.add_argument("--app", default="function_app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--no-workers", action="store_true")
    run.add_argument("--settings", type=Path)
    run.add_argument("--host-json", type=Path)
    run.add_argument("--max-body-bytes", type=int)
    run.add_argument("--grace", type=float, default=30.0)
    run.add_argument("--log-level", default="INFO")
    tok = commands.add_parser("token", help="print a bearer token from the local Entra")
    tok.add_argument("--script-root", type=Path, default=Path.cwd())
    who = tok.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", choices=("operator", "viewer", "outsider"))
    who.add_argument("--app", action="store_true", help="app-only (automation client)")
    tok.add_argument("--log-level", default="WARNING")
