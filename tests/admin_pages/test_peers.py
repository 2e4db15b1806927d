"""/admin/peers: the network admin's page of trusted nodes. Only the network admin reaches it
(anonymous → log in; citizens, clerks, reviewers and archive admins → 404, for every address and
method); adding keeps what was typed and says what is wrong, field by field; removing asks first;
both are in the audit log."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from portal.audit.models import AuditLog
from portal.federation.models import Peer
from tests.factories import PASSWORD
from tests.helpers import csrf_token, hx_csrf_token, login

KEY = base64.b64encode(bytes(range(32))).decode()
ROUTES = [("GET", "/admin/peers"), ("POST", "/admin/peers"), ("POST", "/admin/peers/hechi/check"),
          ("GET", "/admin/peers/hechi/remove"), ("POST", "/admin/peers/hechi/remove")]


def test_every_peer_address_is_checked_here(app):
    found = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/admin/peers")
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert found == {(m, r.replace("hechi", "<name>")) for m, r in ROUTES}


@pytest.mark.parametrize("who", ["anonymous", "citizen", "clerk", "reviewer", "archive_admin"])
def test_only_the_network_admin_reaches_the_peers(client, factory, who):
    archive = factory.archive("451200", "河池市档案馆")
    if who != "anonymous":
        user = factory.user(who, archive=None if who == "citizen" else archive, email=f"{who}@example.cn")
        assert login(client, user.email, PASSWORD).status_code == 302
    token = hx_csrf_token(client)
    for method, url in ROUTES:
        response = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
        else:
            assert response.status_code == 404, (who, method, url, response.status_code)
    if who != "anonymous":
        assert 'id="network-peers"' not in client.get("/admin/").get_data(as_text=True)


@pytest.fixture
def admin_client(client, factory):
    admin = factory.user("admin", email="admin@example.cn")
    assert login(client, admin.email, PASSWORD).status_code == 302
    return client


def test_adding_a_peer_says_what_is_wrong_field_by_field_and_keeps_what_was_typed(admin_client, session):
    assert 'id="network-peers"' in admin_client.get("/admin/").get_data(as_text=True)
    token = csrf_token(admin_client, "/admin/peers")
    typed = {"name": "Hechi!", "url": "ftp://x", "public_key": "not a key", "meili_url": "", "meili_key": "k"}
    response = admin_client.post("/admin/peers", data={**typed, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("name", "url", "public_key", "meili_url"):
        assert f'id="{field}-error"' in page, field
    assert 'value="Hechi!"' in page and "not a key" in page and 'value="k"' in page
    assert session.scalar(select(Peer)) is None


def test_a_peer_is_added_checked_and_removed_after_a_confirmation(admin_client, session):
    token = csrf_token(admin_client, "/admin/peers")
    response = admin_client.post("/admin/peers", data={"name": "hechi", "url": "http://127.0.0.1:9/", "public_key": KEY,
                                                       "meili_url": "", "meili_key": "", "csrf_token": token})
    assert response.status_code == 303
    page = admin_client.get("/admin/peers").get_data(as_text=True)
    assert 'id="peer-hechi"' in page and "http://127.0.0.1:9" in page and "已添加对等节点 hechi" in page
    # Nothing listens there: the check says it cannot reach it (or, unnamed, that this node cannot sign).
    response = admin_client.post("/admin/peers/hechi/check", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and "flash-error" in response.get_data(as_text=True)
    confirm = admin_client.get("/admin/peers/hechi/remove")
    assert confirm.status_code == 200 and 'id="confirm-remove"' in confirm.get_data(as_text=True)
    assert session.scalar(select(Peer).where(Peer.name == "hechi")) is not None  # asking removes nothing
    response = admin_client.post("/admin/peers/hechi/remove", data={"csrf_token": token})
    assert response.status_code == 303
    assert session.scalar(select(Peer).where(Peer.name == "hechi")) is None
    actions = session.scalars(select(AuditLog.action).where(AuditLog.object_type == "peer")).all()
    assert actions == ["peer_added", "peer_removed"]
