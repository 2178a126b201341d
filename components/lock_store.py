"""A Redis lock store for several `rasa run` instances: tickets issued and removed atomically.

Rasa 3.6's ``RedisLockStore`` keeps a conversation's tickets as one JSON string and changes
it by read-modify-write (GET, edit in Python, SET). Two instances handling the same sender
can both read the same queue: both get ticket 0 and both hold the lock, or one's removal
erases the other's new ticket. Numbers also restart at 0 whenever the queue empties, so a
holder whose ticket expired can, when it finally finishes, remove a newer ticket with its
number (tests/unit/test_lock_store.py shows both with Rasa's own class).

Why Lua scripts (``redis.register_script``): Redis runs a script with no other command in
between, so dropping expired tickets, numbering the new one, queueing it and setting the
key's expiry are one step, and so is "remove my ticket, delete the queue if it is empty".
INCR alone would make numbers unique, but expiry and removal would still be separate,
racing calls. The scripts read the Redis server's clock (TIME), so instances agree on expiry.

Storage, per conversation: a sorted set ``<key_prefix>:ticketlock:<conversation id>`` (no
prefix: ``ticketlock:<id>``), one member ``"<number>:<expires, ms since epoch>"`` per ticket,
scored by its number; the key expires with its last ticket. Numbers come from one counter,
``<key_prefix>:ticketlock-seq``, so they increase in issue order and are never reused (the
counter is the one key that does not expire: a few bytes). The names differ from Rasa's
``lock:`` keys, so a queue left by ``type: redis`` is never misread.

Waiting is Rasa's own loop (``LockStore.lock`` / ``_acquire_lock``): a ticket is served when
it is the first live ticket of its conversation. It polls; Rasa polls every second, which
delays each message queued behind another of the same sender, so ``poll_interval`` sets it.
The client is blocking, like Rasa's (the LockStore methods are synchronous): one short
round trip per call.

endpoints.yml, with the keys of ``type: redis`` (``url`` may also be a redis://, rediss://
or unix:// URL; ``poll_interval`` in seconds is the one addition)::

    lock_store:
      type: components.lock_store.AtomicRedisLockStore
      url: localhost
      port: 6379
      db: 1
      key_prefix: seva
      poll_interval: 0.1
"""
from __future__ import annotations

import logging
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Dict, List, Optional, Text

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX,
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 1.0  # Rasa's: LockStore.lock(wait_time_in_seconds=1)
NAMESPACE = "ticketlock"

# Shared by every script. KEYS[1] is the conversation's sorted set. A ticket is live while
# the server's clock has not passed its expiry (Rasa: expired when time.time() > expires).
_PRELUDE = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The live members in ticket order, the expired ones, and the latest expiry (0 if none).
local function scan(now)
  local live, expired, last = {}, {}, 0
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local number, expires = string.match(member, '^(%d+):(%d+)$')
    expires = tonumber(expires)
    if expires < now then
      expired[#expired + 1] = member
    else
      live[#live + 1] = member
      if expires > last then last = expires end
    end
  end
  return live, expired, last
end

-- Removes expired tickets (and ticket number `drop`, if given), keeps the key alive exactly
-- as long as its last ticket; an emptied sorted set disappears by itself.
local function prune(now, drop)
  local live, expired, last = scan(now)
  for _, member in ipairs(expired) do redis.call('ZREM', KEYS[1], member) end
  local kept, kept_last = {}, 0
  for _, member in ipairs(live) do
    local number, expires = string.match(member, '^(%d+):(%d+)$')
    if number == drop then
      redis.call('ZREM', KEYS[1], member)
    else
      kept[#kept + 1] = member
      if tonumber(expires) > kept_last then kept_last = tonumber(expires) end
    end
  end
  if #kept > 0 then redis.call('PEXPIREAT', KEYS[1], string.format('%d', kept_last + 1)) end
  return kept, kept_last
end
"""

# KEYS[2] the ticket counter; ARGV[1] the lifetime in ms. Returns the new ticket's number.
_ISSUE = _PRELUDE + """
local now = now_ms()
local _, last = prune(now, nil)
local number = redis.call('INCR', KEYS[2])
local expires = now + tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], string.format('%d', number), string.format('%d:%d', number, expires))
redis.call('PEXPIREAT', KEYS[1], string.format('%d', math.max(last, expires) + 1))
return number
"""

# ARGV[1] a ticket number to remove, or '' to only drop expired tickets. Returns how many
# live tickets remain.
_REMOVE = _PRELUDE + """
local drop = ARGV[1]
if drop == '' then drop = nil end
local kept = prune(now_ms(), drop)
return #kept
"""

# Read only. Returns the server's time in ms, then the live members in ticket order.
_READ = _PRELUDE + """
local now = now_ms()
local live = scan(now)
local reply = {now}
for _, member in ipairs(live) do reply[#reply + 1] = member end
return reply
"""

# KEYS[2] the ticket counter; ARGV pairs of ticket number and remaining lifetime in ms.
# Replaces the queue (LockStore.save_lock), never letting the counter fall behind a number.
_REPLACE = _PRELUDE + """
local now = now_ms()
redis.call('DEL', KEYS[1])
local last = -1
for i = 1, #ARGV, 2 do
  local number, expires = tonumber(ARGV[i]), now + tonumber(ARGV[i + 1])
  redis.call('ZADD', KEYS[1], string.format('%d', number), string.format('%d:%d', number, expires))
  if expires > last then last = expires end
  if number > tonumber(redis.call('GET', KEYS[2]) or '0') then
    redis.call('SET', KEYS[2], string.format('%d', number))
  end
end
if last >= now then
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', last + 1))
else
  redis.call('DEL', KEYS[1])
end
return 0
"""


def _flag(value: Any) -> bool:
    """YAML gives a bool; a ``${VAR}`` in endpoints.yml gives a string ("false" is not True)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _milliseconds(seconds: float) -> int:
    return max(0, int(round(float(seconds) * 1000)))


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store, with every change to a conversation's tickets one Lua script."""

    key_prefix: Text  # set by RedisLockStore.__init__, then moved to our namespace

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        host: Text = "localhost",
        port: int = 6379,
        db: int = 1,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        use_ssl: bool = False,
        ssl_certfile: Optional[Text] = None,
        ssl_keyfile: Optional[Text] = None,
        ssl_ca_certs: Optional[Text] = None,
        key_prefix: Optional[Text] = None,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        """Takes RedisLockStore's arguments, or the ``endpoint_config`` Rasa passes.

        Rasa creates a lock store named by module path as ``cls(endpoint_config=...)``
        (``rasa.core.lock_store._load_from_module_name_in_endpoint_config``); its ``url``
        is the host, as for ``type: redis``, and its other keys are the arguments here.
        """
        settings: Dict[Text, Any] = dict(
            host=host, port=port, db=db, username=username, password=password, use_ssl=use_ssl,
            ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, ssl_ca_certs=ssl_ca_certs,
            key_prefix=key_prefix, socket_timeout=socket_timeout, poll_interval=poll_interval,
        )
        if endpoint_config is not None:
            unknown = sorted(set(endpoint_config.kwargs) - set(settings))
            if unknown:
                raise ValueError(f"lock_store: unknown key(s) {unknown}; known: {sorted(settings)} and url")
            settings.update(endpoint_config.kwargs)
            if endpoint_config.url:
                settings["host"] = endpoint_config.url
        url = str(settings.pop("host"))
        self.poll_interval = float(settings.pop("poll_interval"))
        settings.update(
            port=int(settings["port"]), db=int(settings["db"]), use_ssl=_flag(settings["use_ssl"]),
            socket_timeout=float(settings["socket_timeout"]),
        )
        super().__init__(host="localhost" if "://" in url else url, **settings)
        if "://" in url:  # options in the URL (db, password, TLS) win over the separate keys
            options = {k: settings[k] for k in ("username", "password") if settings[k] is not None}
            self.red = redis.Redis.from_url(url, db=settings["db"], socket_timeout=settings["socket_timeout"],
                                            **options)

        # RedisLockStore set key_prefix to "<prefix>:lock:" or "lock:"; ours are beside it.
        base = self.key_prefix[: -len(DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX)]
        self.key_prefix = f"{base}{NAMESPACE}:"
        self.counter_key = f"{base}{NAMESPACE}-seq"
        self._issue = self.red.register_script(_ISSUE)
        self._remove = self.red.register_script(_REMOVE)
        self._read = self.red.register_script(_READ)
        self._replace = self.red.register_script(_REPLACE)

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Queues a new ticket living ``lock_lifetime`` seconds; returns its number."""
        try:
            return int(self._issue(keys=[self._key(conversation_id), self.counter_key],
                                   args=[_milliseconds(lock_lifetime)]))
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """The live tickets in issue order, or None when there are none.

        Expiry times are moved from the server's clock to this machine's, because Rasa's
        ``TicketLock`` judges them with ``time.time()``: a ticket is live on the server until
        its expiry's millisecond has passed (+1), and the server's "now" is read before ours,
        so this machine never sees a ticket expire before the server does.
        """
        now, *members = self._read(keys=[self._key(conversation_id)])
        local_now = time.time()
        tickets: List[Ticket] = []
        for member in members:
            number, expires = (int(part) for part in member.split(b":"))
            tickets.append(Ticket(number, local_now + (expires + 1 - int(now)) / 1000))
        return TicketLock(conversation_id, deque(tickets)) if tickets else None

    def save_lock(self, lock: TicketLock) -> None:
        """Replaces the conversation's queue with ``lock``'s tickets, in one step.

        Nothing in Rasa's locking calls this any more (issue, update and removal are their
        own scripts); it is kept so the ``LockStore`` interface stays complete.
        """
        now = time.time()
        args: List[int] = []
        for ticket in lock.tickets:
            args += [ticket.number, _milliseconds(max(0.0, ticket.expires - now))]
        self._replace(keys=[self._key(lock.conversation_id), self.counter_key], args=args)

    def update_lock(self, conversation_id: Text) -> None:
        """Drops expired tickets (Rasa's loop calls this between attempts)."""
        self._remove(keys=[self._key(conversation_id)], args=[""])

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Removes ticket ``ticket_number``; the queue's key goes with its last ticket."""
        self._remove(keys=[self._key(conversation_id)], args=[ticket_number])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Rasa's cleanup (remove the ticket, delete the lock if no one waits), in one step.

        Rasa's version checks "is someone waiting" and deletes in two calls, so a ticket
        issued in between was deleted with the lock.
        """
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: Optional[float] = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ``LockStore.lock``, polling every ``poll_interval`` unless told otherwise."""
        wait = self.poll_interval if wait_time_in_seconds is None else wait_time_in_seconds
        async with super().lock(conversation_id, lock_lifetime, wait) as ticket_lock:
            yield ticket_lock
