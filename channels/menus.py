"""The last numbered menu sent to each citizen, so a typed "2" means its second option.

WhatsApp shows at most 10 list rows and 200-character row ids; beyond that the channel
sends a numbered text menu, or aliases a row id as ``#3`` (channels/whatsapp_outbound.py).
The citizen's reply is the number, and the channel swaps it for the payload it stands for.
The menu is kept in the channel's database (table ``whatsapp_menus`` in ``APP_DB_URL``,
as JSON), not in process memory: a reply that arrives after a restart, or at another Rasa
instance, still finds it. A sender keeps one menu, replaced by the next one sent.
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Dict, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from seva import clock
from seva.db import UTCDateTime, create_tables, in_writer_thread, make_engine

MENU_KEY = re.compile(r"#?\d{1,3}")  # what a menu reply looks like: "3", "#3"

metadata = sa.MetaData()
menus = sa.Table(
    "whatsapp_menus", metadata,
    sa.Column("sender", sa.String(64), primary_key=True),
    sa.Column("menu", sa.Text, nullable=False),  # {"1": payload, …} as JSON
    sa.Column("sent_at", UTCDateTime, nullable=False),
)


class MenuStore:
    """SQLite by default, in the application database (``APP_DB_URL``)."""

    def __init__(self, url: Optional[str] = None):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)

    def _save(self, sender: str, menu: Dict[str, str]) -> None:
        row = {"menu": json.dumps(menu, ensure_ascii=False), "sent_at": clock.now_utc()}
        with self.engine.begin() as conn:
            if conn.execute(menus.update().where(menus.c.sender == sender).values(**row)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(menus.insert().values(sender=sender, **row))
            except IntegrityError:  # another instance wrote one first: ours is the newer
                conn.execute(menus.update().where(menus.c.sender == sender).values(**row))

    async def remember(self, sender: str, menu: Dict[str, str]) -> None:
        """``menu`` (number → payload) is now ``sender``'s menu."""
        await in_writer_thread(self._save, sender, dict(menu))

    def _menu(self, sender: str) -> Dict[str, str]:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(menus.c.menu).where(menus.c.sender == sender)).scalar()
        return json.loads(found) if found else {}

    async def resolve(self, sender: str, text: str) -> str:
        """The payload ``text`` stands for in ``sender``'s last menu, else ``text`` itself."""
        typed = text.strip()
        if not MENU_KEY.fullmatch(typed):  # most messages: no database read
            return text
        return (await asyncio.to_thread(self._menu, sender)).get(typed, text)
