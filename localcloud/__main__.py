"""`python -m localcloud serve --port N --state-dir DIR`: run until interrupted.

Prints the base URL and CA path (and writes them, with the demo tenants and apps, to
DIR/localcloud.json) so the dev host can configure msal and httpx.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from localcloud.cloud import LocalCloud


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the local Entra ID + Graph over HTTPS")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--state-dir", type=Path, default=Path(".localcloud"))
    args = parser.parse_args(argv)

    cloud = LocalCloud.start(host=args.host, port=args.port, state_dir=args.state_dir)
    info = cloud.info()
    (args.state_dir / "localcloud.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    print(f"LOCALCLOUD_BASE_URL={cloud.base_url}", flush=True)
    print(f"LOCALCLOUD_CA_PATH={cloud.ca_path.resolve()}", flush=True)

    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        done.wait()
    finally:
        cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
