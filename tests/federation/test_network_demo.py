"""`make run-network`'s setup (portal.federation.demo) into a temporary dir: two nodes with the demo
data split between them, each trusting the other; a second run changes nothing; served, both
answer and each takes the other's signed call."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from portal.federation import demo
from tests.helpers import free_port

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str):
    with DIRECT.open(url, timeout=5) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("network")
    nodes = (demo.DemoNode("nanning", "127.0.0.1", free_port(), "450100,450200"),
             demo.DemoNode("hechi", "localhost", free_port(), "451200,451202,451203"))
    first = demo.setup(base, nodes, records=40)
    again = demo.setup(base, nodes, records=40)
    procs = [subprocess.Popen([str(demo.PORTAL), "serve", "--host", "127.0.0.1", "--port", str(n.port)],
                              env=demo.node_env(n, base), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for n in nodes]
    try:
        for node in nodes:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _get(f"http://127.0.0.1:{node.port}/federation/v1/node")
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"{node.name} never answered"
                    time.sleep(0.2)
        yield base, nodes, first, again
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)


def test_two_nodes_with_the_demo_data_split_between_them(served):
    _base, nodes, first, again = served
    assert first == again  # a second run keeps names, URLs and keys
    for node in nodes:
        info = _get(f"http://127.0.0.1:{node.port}/federation/v1/node")
        assert info["name"] == node.name and info["url"] == node.url
        assert [a["code"] for a in info["archives"]] == node.archives.split(",")


def test_each_node_trusts_the_other(served):
    base, nodes, first, _again = served
    for node, other in (nodes, nodes[::-1]):
        listed, checked = demo.portal(node, base, ["peers", "list", "--json"], ["peers", "check", other.name])
        peers = json.loads(listed)
        assert [(p["name"], p["url"], p["public_key"]) for p in peers] == [
            (other.name, other.url, first[other.name]["public_key"])]
        assert "signature accepted" in checked
