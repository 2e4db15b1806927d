"""The network admin adds a peer node at /admin/peers with the keyboard alone: this node's name, URL
and key are there to read out; wrong input is answered field by field with what was typed kept; the
peer appears with its key's fingerprint; "check" says it cannot be reached (nothing listens there);
"remove" asks first. No serious accessibility violation (axe) on the way."""
from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.catalog.demo import seed_demo
from portal.catalog.demo_data import PASSWORD
from portal.db import db
from portal.federation.node import init_node
from portal.migrate import upgrade
from tests.browser.signing_in import signed_in
from tests.browser.test_accessibility import violations
from tests.conftest import make_test_app

pytestmark = pytest.mark.browser
KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
def node_server(tmp_path_factory):
    """A portal named "nanning" (its own keys folder: the other browser tests' portal is not a node)."""
    data_dir = tmp_path_factory.mktemp("peers-data")
    app = make_test_app(data_dir, f"sqlite:///{data_dir / 'portal.db'}", TESTING=False, DEV=True,
                        SIGNING_KEYS_DIR=Path(data_dir / "keys"))
    with app.app_context():
        upgrade(db.engine)
        seed_demo(db.session, records=10, codes={"450100"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    init_node(Path(data_dir / "keys"), "nanning", url)
    thread = threading.Thread(target=server.serve_forever, name="peers-server", daemon=True)
    thread.start()
    try:
        yield {"url": url, "app": app, "password": PASSWORD}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.dispose(app)


def _type_into(page, label: str, text: str) -> None:
    """Tab to the field (from the one before it), select what is there and type over it."""
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text) if text else page.keyboard.press("Delete")


def test_the_network_admin_adds_checks_and_removes_a_peer_with_the_keyboard(node_server, browser):
    url = node_server["url"]
    context, admin = signed_in(browser, node_server, "admin@demo.cn")
    try:
        admin.goto(url + "/admin/")
        admin.get_by_role("link", name="对等节点").focus()
        admin.keyboard.press("Enter")
        admin.wait_for_url(url + "/admin/peers")
        assert admin.locator("#node-name").inner_text() == "nanning"
        assert admin.locator("#node-url").inner_text() == url
        assert len(admin.locator("#node-key").inner_text()) == 44
        assert violations(admin) == []

        # Wrong in every field: each says what is wrong, and keeps what was typed.
        _type_into(admin, "节点名称", "Hechi!")
        admin.keyboard.press("Tab")
        admin.keyboard.type("ftp://hechi")
        admin.keyboard.press("Tab")
        admin.keyboard.type("not a key")
        admin.keyboard.press("Enter")  # in a textarea: a new line, not a submission
        admin.get_by_role("button", name="添加", exact=True).focus()
        admin.keyboard.press("Enter")
        admin.locator("#name-error").wait_for()
        assert admin.locator("#url-error").is_visible() and admin.locator("#public_key-error").is_visible()
        assert admin.get_by_label("节点名称", exact=True).input_value() == "Hechi!"
        assert admin.get_by_label("节点网址", exact=True).input_value() == "ftp://hechi"
        assert admin.get_by_label("节点名称", exact=True).get_attribute("aria-invalid") == "true"
        assert violations(admin) == []

        _type_into(admin, "节点名称", "hechi")
        _type_into(admin, "节点网址", "http://127.0.0.1:9")
        _type_into(admin, "节点公钥", KEY)
        admin.get_by_role("button", name="添加", exact=True).focus()
        admin.keyboard.press("Enter")
        row = admin.locator("#peer-hechi")
        row.wait_for()
        assert "http://127.0.0.1:9" in row.inner_text() and len(row.locator("code").inner_text()) == 39
        assert admin.get_by_text("已添加对等节点 hechi").is_visible()
        assert violations(admin) == []

        row.get_by_role("button", name="检查").focus()
        admin.keyboard.press("Enter")
        admin.locator(".flash-error").filter(has_text="无法连接 hechi").wait_for()

        admin.locator("#peer-hechi").get_by_role("link", name="移除").focus()
        admin.keyboard.press("Enter")
        admin.wait_for_url(url + "/admin/peers/hechi/remove")
        assert violations(admin) == []
        admin.get_by_role("button", name="确认移除").focus()
        admin.keyboard.press("Enter")
        admin.locator("#no-peers").wait_for()
        assert admin.locator("#peer-hechi").count() == 0
    finally:
        context.close()
