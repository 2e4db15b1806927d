"""Error pages: Chinese, no stack traces; the API answers in JSON."""
from __future__ import annotations

import pytest


@pytest.fixture
def failing_app(app):
    """The app with routes that crash, and exceptions handled as in production (not re-raised to the test)."""
    def boom():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_unknown_page_is_a_chinese_404_without_traceback(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "页面不存在，或者您无权查看。" in page and "返回首页" in page
    assert '<html lang="zh-CN">' in page
    assert "Traceback" not in page and "NotFound" not in page


def test_unknown_api_path_is_json(client):
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {"error": "页面不存在，或者您无权查看。"}


def test_wrong_method_is_a_chinese_405(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "不支持这种访问方式。" in response.get_data(as_text=True)


def test_crash_renders_the_chinese_500_page_without_traceback(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "服务器出了点问题" in page and "返回首页" in page
    for leak in ("Traceback", "RuntimeError", "secret internal detail"):
        assert leak not in page
    # ...but the operators still get the traceback in the log.
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_api_crash_is_json_without_traceback(failing_app):
    response = failing_app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "服务器出了点问题，我们已记录下来，请稍后再试。"}


def test_error_pages_carry_security_headers(client):
    headers = client.get("/no/such/page").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/requests/x%00", "/requests/x%00/certificate", "/search?q=%00", "/verify?serial=%00",
                                 "/staff/queue?find=a%00b"])
def test_a_nul_character_anywhere_in_a_web_address_is_a_clear_400(client, url):
    """PostgreSQL refuses NUL in text; no page may turn it into a server error."""
    response = client.get(url)
    assert response.status_code == 400
    assert "请求中含有无效字符" in response.get_data(as_text=True)


def test_a_nul_character_in_a_web_form_is_a_clear_400_and_changes_nothing(client, factory, session):
    from tests.helpers import csrf_token

    user = factory.user(email="nul@example.cn")
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "email": "nul@example.cn\x00",
                                           "password": "x"})
    assert response.status_code == 400
    assert user.last_login_at is None
