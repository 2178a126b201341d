"""A small command line for officers and operators: applications, their status, their delivery.

    python -m seva.officer list [--status submitted]
    python -m seva.officer set-status ORT-XXXX-XXXX approved --note "Certificate issued" [--certificate-url URL]
    python -m seva.officer set-status ORT-XXXX-XXXX documents_needed --document "Ration card" --document "Photo"
    python -m seva.officer deliveries [--state failed]
    python -m seva.officer redeliver ORT-XXXX-XXXX
    python -m seva.officer notices
    python -m seva.officer documents ORT-XXXX-XXXX [--save FOLDER]

A status change here takes the same path as one posted by the department's system
(``Store.change_status``): it is kept in the history and the citizen is told on WhatsApp
by the running assistant. A delivery the department refused (a 4xx) is never retried by
itself: ``redeliver`` once the cause is fixed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from seva import clock
from seva.catalog import default_catalog
from seva.deliveries import DeliveryQueue
from seva.document_store import DocumentStore, digest_of, document_store_from_env
from seva.notices import NoticeQueue
from seva.privacy import mask_phone
from seva.store import STATUSES, Store


def _when(moment) -> str:
    return clock.to_ist(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seva.officer", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: APP_DB_URL or the SQLite file)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list applications, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=50)
    change = commands.add_parser("set-status", help="change the status of an application (the citizen is told)")
    change.add_argument("reference")
    change.add_argument("status", choices=STATUSES[1:])
    change.add_argument("--note", default=None, help="for rejected: the reason")
    change.add_argument("--certificate-url", default=None, help="for approved: where to download it")
    change.add_argument("--document", action="append", default=[], help="for documents_needed (repeat)")
    change.add_argument("--officer", default="officer")
    deliveries = commands.add_parser("deliveries", help="deliveries to the department, newest first")
    deliveries.add_argument("--state", choices=("pending", "delivered", "failed"))
    deliveries.add_argument("--limit", type=int, default=50)
    redeliver = commands.add_parser("redeliver", help="try a refused delivery again, once its cause is fixed")
    redeliver.add_argument("reference")
    notices = commands.add_parser("notices", help="messages sent to citizens without their asking")
    notices.add_argument("--limit", type=int, default=50)
    documents = commands.add_parser("documents", help="the documents a citizen sent for an application")
    documents.add_argument("reference")
    documents.add_argument("--save", type=Path, help="also copy the files into this folder")
    args = parser.parse_args(argv)
    store = Store(args.db)
    if args.command == "documents":
        return _documents(store, document_store_from_env(), args.reference, args.save)
    if args.command == "list":
        return _list(store, args.status, args.limit)
    if args.command == "deliveries":
        return _deliveries(DeliveryQueue(store, default_catalog()), args.state, args.limit)
    if args.command == "redeliver":
        if not DeliveryQueue(store, default_catalog()).redeliver(args.reference.upper()):
            print(f"error: {args.reference} has no refused delivery to try again", file=sys.stderr)
            return 1
        print(f"{args.reference.upper()} will be delivered again by the running assistant")
        return 0
    if args.command == "notices":
        return _notices(NoticeQueue(store), args.limit)
    try:
        recorded = store.change_status(args.reference, args.status, args.note, changed_by=args.officer,
                                       certificate_url=args.certificate_url, documents_requested=args.document)
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 1
    print(f"{recorded.application.reference} is now {recorded.application.status}"
          + ("; the citizen will be told on WhatsApp" if recorded.new else " (this change was already recorded)"))
    return 0


def _list(store: Store, status: Optional[str], limit: int) -> int:
    today = clock.today_ist()  # ORTPSA days are Indian dates (seva/clock.py)
    rows = store.all(status=status, limit=limit)
    print(f"{'reference':15} {'service':32} {'status':16} {'submitted':10} {'due':10} sender")
    for app in rows:
        due = app.due_date.isoformat() if app.due_date else "-"
        flag = " OVERDUE" if app.overdue(today) else ""
        print(f"{app.reference:15} {app.service_id[:32]:32} {app.status:16} "
              f"{app.submitted_on.isoformat():10} {due:10} {mask_phone(app.sender_id)}{flag}")
    print(f"{len(rows)} application(s)")
    return 0


def _deliveries(queue: DeliveryQueue, state: Optional[str], limit: int) -> int:
    rows = queue.all(state=state, limit=limit)
    print(f"{'reference':15} {'state':9} {'tries':>5} {'last':>4} {'next / delivered':16} {'department ref':16} error")
    for d in rows:
        when = _when(d.delivered_at) if d.state == "delivered" else (_when(d.next_attempt_at)
                                                                       if d.state == "pending" else "-")
        print(f"{d.reference:15} {d.state:9} {d.attempts:>5} {d.last_status if d.last_status is not None else '-':>4} "
              f"{when:16} {(d.department_reference or '-')[:16]:16} {(d.last_error or '')[:80]}")
    failed = sum(1 for d in rows if d.state == "failed")
    print(f"{len(rows)} delivery(ies)" + (f"; {failed} refused by the department: fix, then "
                                          f"`python -m seva.officer redeliver REF`" if failed else ""))
    return 0


def _notices(queue: NoticeQueue, limit: int) -> int:
    rows = queue.all(limit=limit)
    print(f"{'reference':15} {'kind':8} {'state':8} {'via':10} {'tries':>5} {'sent':16} error")
    for n in rows:
        print(f"{n['reference']:15} {n['kind']:8} {n['state']:8} {n['sent_via'] or '-':10} {n['attempts']:>5} "
              f"{_when(n['sent_at']):16} {(n['last_error'] or '')[:80]}")
    print(f"{len(rows)} notice(s)")
    return 0


def _documents(store: Store, files: DocumentStore, reference: str, save: Optional[Path]) -> int:
    application = store.by_reference(reference)
    if application is None:
        print(f"error: no application {reference}", file=sys.stderr)
        return 1
    rows = store.documents(application.reference)
    print(f"{'added':16} {'question':24} {'kind':5} {'type':16} {'size':>9} {'pages':>5} file")
    for number, document in enumerate(rows, start=1):
        extension = "pdf" if document.kind == "pdf" else document.media_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
        name = f"{application.reference}-{number}.{extension}"
        where = files.url_for(document.key) or digest_of(document.key)[:16]
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            try:
                (save / name).write_bytes(files.get(document.key))
                where = str(save / name)
            except KeyError:
                where = "MISSING from the document store"
        print(f"{_when(document.added_at):16} {(document.field_id or 'sent when asked')[:24]:24} {document.kind:5} "
              f"{document.media_type[:16]:16} {document.size:>9} {document.pages:>5} {where}")
    print(f"{len(rows)} document(s) for {application.reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
