"""The durable log of taken WhatsApp message ids: one winner per id, across restarts.

The Redis variant runs against a real redis-server started for the test (.ci/run
installs Debian's redis-server)."""
import asyncio
import shutil
import socket
import subprocess
import time

import pytest

from channels.dedupe import RedisMessageLog, SQLMessageLog


def claim_many(log, ids):
    async def go():
        return await asyncio.gather(*(log.claim(i) for i in ids))
    return asyncio.run(go())


def test_sql_claims_once_even_when_racing_and_after_reopening(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    results = claim_many(SQLMessageLog(url), ["wamid.A"] * 10 + ["wamid.B"])
    assert results.count(True) == 2 and results[-1] is True
    assert claim_many(SQLMessageLog(url), ["wamid.A", "wamid.B", "wamid.C"]) == [False, False, True]
    reopened = SQLMessageLog(url)  # what recovery after a crash asks, without claiming
    claimed = [asyncio.run(reopened.claimed_at(i)) for i in ["wamid.A", "wamid.D", "wamid.D"]]
    assert [at is not None for at in claimed] == [True, False, False]


def test_statuses_are_kept_with_their_error_code(tmp_path):
    log = SQLMessageLog(f"sqlite:///{tmp_path / 'log.db'}")
    asyncio.run(log.record_status("wamid.X", "failed", "91******3210", 131047, "Re-engagement message"))
    asyncio.run(log.record_status("wamid.Y", "delivered", "91******3210"))
    assert [(r["message_id"], r["error_code"]) for r in log.failed()] == [("wamid.X", 131047)]


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on a Unix socket in tmp_path (no TCP port: none to pick, none to race for)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is required (apt-get install redis-server; .ci/run installs it)"
    path = tmp_path / "redis.sock"
    process = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, f"redis-server exited with {process.returncode}"
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(str(path))
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not listen on its socket within 10 s"
                time.sleep(0.05)
        yield f"unix://{path}?db=0"
    finally:
        process.terminate()
        process.wait(10)


def test_redis_claims_once_across_instances(redis_url, tmp_path):
    first = RedisMessageLog(redis_url, f"sqlite:///{tmp_path / 'a.db'}")
    second = RedisMessageLog(redis_url, f"sqlite:///{tmp_path / 'b.db'}")  # another Rasa instance

    async def race():
        claims = await asyncio.gather(*[log.claim("wamid.R") for log in (first, second) for _ in range(5)],
                                      second.claim("wamid.S"))
        return claims, [await first.claimed_at("wamid.S") is not None, await first.claimed_at("wamid.T") is not None]
    results, seen = asyncio.run(race())
    assert results[:10].count(True) == 1 and results[10] is True
    assert seen == [True, False]  # what one instance's recovery sees of the other's claims
