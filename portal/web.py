"""Wiring the web side: extensions, blueprints, error pages, locale, security headers."""
from __future__ import annotations

from flask import Flask, has_request_context, jsonify, request, session
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from portal.core.categories import CATEGORIES
from portal.core.i18n import escape_lazy_messages, install_template_gettext
from portal.throttle import init_throttle
from portal.core.punctuation import paren, punct
from portal.core.static_files import init_static
from portal.web_util import render

csrf = CSRFProtect()
login_manager = LoginManager()
LANG_COOKIE = "lang"


def select_locale() -> str:
    """Simplified Chinese unless the visitor chose English (a ?lang= link sets a cookie)."""
    if not has_request_context():  # the command line speaks Chinese
        return "zh_Hans_CN"
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if chosen == "en" else "zh_Hans_CN"


class _TrustedHosts:
    """Answer 400 to a request for a host name the portal does not serve, before Flask sees it
    (Flask's own TRUSTED_HOSTS check leaves no URL adapter, so not even an error page could be
    built). Links never come from the Host header anyway (portal.web_util.public_url)."""

    def __init__(self, wsgi_app, trusted: list[str] | None):
        self.wsgi_app, self.trusted = wsgi_app, trusted

    def __call__(self, environ, start_response):
        if self.trusted:
            try:
                get_host(environ, self.trusted)
            except SecurityError:
                body = "400 Bad Request: unknown host / 未知的主机名".encode()
                start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                                   ("Content-Length", str(len(body)))])
                return [body]
        return self.wsgi_app(environ, start_response)


def init_web(app: Flask) -> None:
    from portal.accounts.oidc import bp as oidc_bp
    from portal.accounts.views import bp as accounts_bp
    from portal.api.views import bp as api_bp
    from portal.archives.views import bp as archives_bp
    from portal.audit.views import bp as audit_bp
    from portal.admin.views import bp as admin_bp
    from portal.admin import (archive_pages, copies_views, counter_views, imports, records,  # noqa: F401 (routes on admin_bp)
                              staff_pages)
    from portal.admin.invitation import bp as invitation_bp
    from portal.appraisal.views import bp as appraisal_bp
    from portal.catalog.copy_views import bp as copies_bp
    from portal.stats import views as stats_views  # noqa: F401 (the statistics pages, on admin_bp)
    from portal.catalog.views import bp as catalog_bp
    from portal.certificates.views import bp as certificates_bp
    from portal.federation.routes import views as _federation_views
    federation_bp = _federation_views.bp
    from portal.requests.views import bp as requests_bp
    from portal.review.identity import bp as identity_bp
    from portal.review.views import bp as review_bp
    from portal.site.views import bp as site_bp

    app.wsgi_app = _TrustedHosts(app.wsgi_app, app.config["TRUSTED_HOSTS"])  # inside ProxyFix: the forwarded host
    if hops := app.config["PROXY_HOPS"]:
        # Behind a reverse proxy: audit logs record the citizen's address, links use the public host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    Htmx(app)
    init_static(app)  # fingerprinted links, cached for a year, compressed
    init_throttle(app)
    app.json.ensure_ascii = False  # Chinese stays readable in API answers
    csrf.init_app(app)
    Babel(app, locale_selector=select_locale, default_translation_directories=str(app.root_path) + "/translations")
    escape_lazy_messages()  # a message that took in a file name or typed text is text on the page, not HTML
    install_template_gettext(app.jinja_env)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load(user_id: str):
        from portal.accounts.sessions import current
        from portal.db import db

        return current(db.session, user_id)

    @app.before_request
    def _load_user_first():
        """The session's user is looked up (and its last activity written) before any view runs, so
        that write never commits a view's half-done work."""
        if "_user_id" in session and request.endpoint != "static":  # static files need no user
            _ = current_user.is_authenticated

    app.register_blueprint(site_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(oidc_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(requests_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(identity_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(archives_bp)
    app.register_blueprint(appraisal_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(invitation_bp)
    app.register_blueprint(copies_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(federation_bp)
    csrf.exempt(federation_bp)  # peers sign each call (portal.federation.signing); no session, no cookie
    # The API authenticates by bearer token only, never by the session cookie (portal.api.auth),
    # so a forged cross-site request carries no credentials and CSRF tokens have nothing to protect.
    csrf.exempt(api_bp)

    from portal.policy import may, may_verify_identity

    app.jinja_env.globals.update(CATEGORIES=CATEGORIES, select_locale=select_locale,
                                 may_verify_identity=may_verify_identity, punct=punct, may_on_archive=may)
    app.jinja_env.filters["paren"] = paren

    @app.before_request
    def _refuse_nul():
        """A NUL never comes from a person typing, and PostgreSQL refuses it in text: one clear 400
        here instead of an error deep inside. The API checks each field and names it."""
        if request.path.startswith("/api/"):
            return None
        values = [request.path, *(value for _key, value in request.args.items(multi=True))]
        if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                               "multipart/form-data"):
            values.extend(value for _key, value in request.form.items(multi=True))
        if any("\x00" in value for value in values):
            return render("errors/error.html", "errors/_error.html", status=400, code=400,
                          message=_l("请求中含有无效字符"))
        return None

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'",
        )
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "_user_id" in session and request.endpoint != "static" and "no-store" not in (resp.cache_control.to_header() or ""):
            # Whatever a signed-in person sees may carry personal data (their requests, the queue,
            # applicants' identities): no browser disk or shared proxy keeps a copy.
            resp.headers["Cache-Control"] = "no-store"
        resp.vary.update(("HX-Request", "HX-Boosted", "HX-Target"))  # one address, several answers
        if request.args.get("lang") in ("en", "zh"):
            resp.set_cookie(LANG_COOKIE, request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return resp

    for code in (400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503):
        app.register_error_handler(code, _error_page(code))
    app.register_error_handler(CSRFError, _error_page(400, csrf=True))


ERROR_MESSAGES = {
    400: _l("请求有误，请返回上一页检查后重试。"),
    401: _l("请先登录后再访问。"),
    403: _l("您没有权限访问这个页面。"),
    404: _l("页面不存在，或者您无权查看。"),
    405: _l("不支持这种访问方式。"),
    409: _l("操作冲突，该事项可能已被他人处理，请刷新后重试。"),
    413: _l("上传的内容太大：一次最多 60 MB。请按页面上写明的大小限制减小文件后重试。"),
    415: _l("不支持这种内容格式。"),
    429: _l("操作太频繁，请稍后再试。"),
    500: _l("服务器出了点问题，我们已记录下来，请稍后再试。"),
    503: _l("服务暂时不可用，请稍后再试。"),
}


def _error_page(code: int, csrf: bool = False):
    def handler(exc):
        from portal.db import db

        if code >= 500:
            # Whatever failed may have left the transaction half-done; never commit it.
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 — the error page must render even with the database down
                pass
        message = _l("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交。") if csrf else ERROR_MESSAGES[code]
        if request.path.startswith(("/api/", "/federation/")):
            return jsonify({"error": str(message)}), code
        return render("errors/error.html", "errors/_error.html", status=code, code=code, message=message)
    return handler
