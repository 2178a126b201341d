"""``python -m fakedepartment --port 8090 --secret S --seva-status-url URL``: the fake
department on 127.0.0.1 until Ctrl-C or SIGTERM. Prints a line with ``listening`` once it does."""
from __future__ import annotations

import argparse
import os
import signal
import threading
from typing import List, Optional

from fakedepartment.server import FakeDepartment


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakedepartment", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090, help="0: any free port (the line printed says which)")
    parser.add_argument("--secret", default=os.environ.get("DEPARTMENT_API_SECRET", ""),
                        help="the shared DEPARTMENT_API_SECRET (default: that variable)")
    parser.add_argument("--seva-status-url", default=None,
                        help="where status changes go, e.g. http://127.0.0.1:5005/webhooks/department/status")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("no secret: pass --secret or set DEPARTMENT_API_SECRET (the one Seva uses)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake = FakeDepartment(args.secret, args.seva_status_url).start(args.port)
    print(f"fake department listening on {fake.base_url} (operator page {fake.base_url}/, "
          f"applications at {fake.base_url}/applications, status to {args.seva_status_url or 'nowhere'})",
          flush=True)
    try:
        stop.wait()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
