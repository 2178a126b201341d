"""A small command line for officers: list applications and change their status.

    python -m seva.officer list [--status submitted]
    python -m seva.officer set-status ORT-XXXX-XXXX approved --note "Certificate issued"

Status changes are recorded in the history the citizen sees when asking for status.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from seva import clock
from seva.privacy import mask_phone
from seva.store import STATUSES, Store


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seva.officer", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: APP_DB_URL or the SQLite file)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list applications, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=50)
    change = commands.add_parser("set-status", help="change the status of an application")
    change.add_argument("reference")
    change.add_argument("status", choices=STATUSES)
    change.add_argument("--note", default=None)
    change.add_argument("--officer", default="officer")
    args = parser.parse_args(argv)
    store = Store(args.db)
    today = clock.today_ist()  # ORTPSA days are Indian dates (seva/clock.py)
    if args.command == "list":
        rows = store.all(status=args.status, limit=args.limit)
        print(f"{'reference':15} {'service':32} {'status':12} {'submitted':10} {'due':10} sender")
        for app in rows:
            due = app.due_date.isoformat() if app.due_date else "-"
            flag = " OVERDUE" if app.overdue(today) else ""
            print(f"{app.reference:15} {app.service_id[:32]:32} {app.status:12} "
                  f"{app.submitted_on.isoformat():10} {due:10} {mask_phone(app.sender_id)}{flag}")
        print(f"{len(rows)} application(s)")
        return 0
    try:
        app = store.set_status(args.reference, args.status, args.note, changed_by=args.officer)
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 1
    print(f"{app.reference} is now {app.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
