"""The cross-node journey with PostgreSQL: the issuing node on PostgreSQL, the holding node on
SQLite (each database its own), so both engines take the messages' transactions."""
from __future__ import annotations

import pytest

from tests.federation.cluster import Node, PG_URL, close, running
from tests.federation.requests_journey import FAST, HOLDING, ISSUING, detail, sql, whole_journey

pytestmark = pytest.mark.skipif(not PG_URL, reason="PORTAL_TEST_POSTGRES_URL is not set: the PostgreSQL node "
                                                    "of the cross-node journey needs a server")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("requests-pg")
    a = Node.create(base / "a", "gamma", postgres=True, archives=ISSUING, records=30, extra_env=FAST)
    try:
        b = Node.create(base / "b", "delta", archives=HOLDING, records=30, extra_env=FAST)
    except BaseException:
        close(a)
        raise
    with running(a, b):
        yield a, b


def test_the_whole_journey_with_the_issuing_node_on_postgresql(pair):
    a, b = pair
    number = whole_journey(a, b)
    actions = [e["action"] for e in detail(a, number, f"reviewer.{ISSUING}@demo.cn")["events"]]
    assert actions == ["submit", "accept", "peer_task_sent", "verify", "approve", "issue"]
    stored = sql(a, "SELECT kind, peer, signature FROM federation_message WHERE direction = 'in'")
    assert [(kind, peer) for kind, peer, _sig in stored] == [("task.answer", "delta")]
    assert 'keyid="delta"' in stored[0][2]
    assert sql(b, "SELECT a.code FROM archive a WHERE a.node = 'gamma'") == [(ISSUING,)]
    assert sql(a, "SELECT a.code FROM archive a WHERE a.node = 'delta'") == [(HOLDING,)]
