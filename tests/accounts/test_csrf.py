"""CSRF: every form POST needs the token, from the form field or (for htmx) the X-CSRFToken header."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from tests.factories import PASSWORD, make_id_number
from tests.helpers import hx_csrf_token

CSRF_MESSAGE = "CSRF 校验失败"


def test_csrf_protection_is_on_in_the_test_app(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


@pytest.mark.parametrize("url", ["/login", "/register"])
def test_post_without_token_is_400_with_the_chinese_message(client, session, url):
    response = client.post(url, data={"email": "a@example.cn", "password": PASSWORD, "name": "张三",
                                      "id_number": make_id_number(), "password2": PASSWORD, "consent": "y"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert CSRF_MESSAGE in page and "请刷新页面后重新提交" in page
    assert "Traceback" not in page
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_post_with_a_forged_token_is_400(client, factory):
    factory.user(email="a@example.cn")
    response = client.post("/login", data={"email": "a@example.cn", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)


def test_token_from_another_session_is_refused(app, factory):
    factory.user(email="a@example.cn")
    token = hx_csrf_token(app.test_client())
    response = app.test_client().post("/login", data={"email": "a@example.cn", "password": PASSWORD,
                                                      "csrf_token": token})
    assert response.status_code == 400


def test_base_template_hands_the_token_to_htmx(client):
    assert hx_csrf_token(client, "/login")


def test_htmx_header_token_is_accepted(client, factory):
    factory.user(email="a@example.cn")
    response = client.post("/login", data={"email": "a@example.cn", "password": PASSWORD},
                           headers={"X-CSRFToken": hx_csrf_token(client), "HX-Request": "true"})
    assert response.status_code == 302
    assert "退出" in client.get("/").get_data(as_text=True)
