"""``make review``: build the designers' review page; ``python -m review serve``: serve it alone.

    python -m review build [--out results/review] [--endpoints endpoints.yml] [--no-reports]
                           [--show-answers] [--idle-minutes 30]
    python -m review serve [--port 8070] [--host 127.0.0.1]   (REVIEW_TOKEN to listen elsewhere)
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Optional

from review.build import build
from review.edits import ROOT


def _store(url: Optional[str]) -> Any:
    """The application store, or None when its SQLite file does not exist (nothing submitted yet)."""
    from seva.db import database_url
    from seva.store import Store

    url = database_url(url)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return None
    return Store(url)


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    make = commands.add_parser("build", help="write the review page (default)")
    make.add_argument("--out", type=Path, default=ROOT / "results" / "review")
    make.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    make.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    make.add_argument("--model", type=Path, default=ROOT / "models" / "seva.tar.gz")
    make.add_argument("--app-db-url", default=None, help="the application store (default: APP_DB_URL or var/seva.db)")
    make.add_argument("--no-reports", action="store_true", help="skip the model reports (rasa test nlu, story graph)")
    make.add_argument("--show-answers", action="store_true", help="show answers to form questions (hidden by default)")
    make.add_argument("--idle-minutes", type=float, default=30, help="an open form idle this long is abandoned")
    make.add_argument("--max-items", type=int, default=300, help="list at most this many conversations, newest first")
    serve = commands.add_parser("serve", help="serve the page and its save buttons")
    serve.add_argument("--out", type=Path, default=ROOT / "results" / "review")
    serve.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    serve.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    serve.add_argument("--project", type=Path, default=ROOT, help="where saved examples and stories go")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8070)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] or ["build"])

    warnings.filterwarnings("ignore", category=DeprecationWarning)  # Rasa's SQLAlchemy and pkg_resources notices
    if args.command == "serve":
        return _serve(args)
    started = time.monotonic()
    summary = build(args.out, endpoints=args.endpoints, domain=args.domain, model=args.model,
                    app_store=_store(args.app_db_url), reports=not args.no_reports,
                    show_answers=args.show_answers, idle_seconds=args.idle_minutes * 60,
                    max_items=args.max_items)
    print(f"{summary.flagged} of {summary.conversations} conversations need attention "
          f"({', '.join(f'{k} {n}' for k, n in summary.kinds.items()) or 'none'}); "
          f"{summary.funnels} funnels; {time.monotonic() - started:.0f} s")
    print(f"Open {summary.page}, or http://localhost:8080/review/ while `make run` is up "
          "(its buttons save examples and test stories there).")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from review.server import ReviewSite

    token = os.environ.get("REVIEW_TOKEN") or None
    if args.host not in ("127.0.0.1", "localhost", "::1") and not token:
        print("The review page shows citizens' conversations: it listens beyond localhost only with a token "
              "(set REVIEW_TOKEN).", file=sys.stderr)
        return 2
    site = ReviewSite(args.out, args.endpoints, args.domain, args.project, token=token)
    print(f"Review page on http://{args.host}:{args.port}/review/" + ("?token=…" if token else ""))
    web.run_app(site.app(), host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
