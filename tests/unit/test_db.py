"""seva/db.py against a real PostgreSQL: instances starting together create the tables once."""
import threading

import sqlalchemy as sa

from channels import dedupe, inbox, menus, rate_limit, replies
from seva import store
from seva.db import create_tables, make_engine


def test_instances_starting_together_on_a_fresh_postgresql_all_get_their_tables(postgres_db):
    """Eight 'instances' create every table of the channel and the store at the same moment.
    Without the advisory lock, CREATE TABLE races and the loser fails (pg_type unique violation)."""
    metadatas = [store.metadata, inbox.metadata, menus.metadata, dedupe.metadata, rate_limit.metadata,
                 replies.metadata]
    engines = [make_engine(postgres_db) for _ in range(8)]
    start, errors = threading.Barrier(len(engines)), []

    def instance(engine):
        start.wait()
        try:
            for metadata in metadatas:
                create_tables(metadata, engine)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=instance, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    names = set(sa.inspect(engines[0]).get_table_names())
    assert {"whatsapp_inbox", "whatsapp_replies", "whatsapp_menus", "whatsapp_inbound",
            "whatsapp_rate_limits"} <= names
    for engine in engines:
        engine.dispose()
