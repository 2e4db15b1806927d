"""A trusted peer, or anyone on the network, attacking the peer API of a real node."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.federation.cluster import Node, running
from tests.federation.test_signatures import _signed


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacks")
    a, b = Node.create(base / "a", "alpha"), Node.create(base / "b", "beta")
    with running(a, b):
        yield a, b


def _http() -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    return http


def test_absurdly_deep_json_from_a_peer_is_refused_not_a_server_error(pair):
    a, b = pair
    body = ('{"id":"%s","kind":"task.cancel","body":%s}' % (uuid.uuid4().hex, "[" * 100_000 + "]" * 100_000)).encode()
    answer = _http().send(_signed(a, b.url + "/federation/v1/messages", method="POST", body=body))
    assert answer.status_code == 400, answer.text[:300]
