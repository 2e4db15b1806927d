"""The translation marker for labels kept in tables (Babel's default keyword `N_`): the table
keeps the Chinese text, and pages translate it when they show it."""
from __future__ import annotations


def N_(text: str) -> str:
    """Marks a label for translation and leaves it a plain string."""
    return text


def escape_lazy_messages() -> None:
    """Messages are text. Flask-Babel's lazy strings (`_l(...)`) tell Jinja they are markup
    (`__html__` returns them as they are), so whatever a message took in — a file's name, a value
    someone typed — would reach the page as HTML. From here on a lazy message is escaped like any
    other text when a template shows it. (No message of ours holds markup; tests/security checks.)"""
    from flask_babel.speaklater import LazyString
    from markupsafe import escape

    LazyString.__html__ = lambda self: str(escape(str(self)))


def current_translations():
    """The catalog of the current request's language, looked up once per request. Flask-Babel's
    own lookup walks `g` three times and asks the locale selector's cache on every message, and a
    search page shows a hundred messages (about a quarter of its rendering time went there). The
    catalog is kept where Flask-Babel keeps per-request state (`g._flask_babel.babel_translations`),
    so its `refresh()` and `force_locale()`, which clear or swap that attribute, still switch it."""
    from flask.globals import _cv_app
    from flask_babel import get_translations

    app_ctx = _cv_app.get(None)
    state = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    catalog = getattr(state, "babel_translations", None)
    if catalog is None:
        catalog = get_translations()  # creates g._flask_babel inside an app context
        if app_ctx is not None:
            app_ctx.g._flask_babel.babel_translations = catalog
    return catalog


def install_template_gettext(jinja_env) -> None:
    """Templates translate through current_translations() (Flask-Babel installs the same four
    callables, each looking the catalog up afresh)."""
    jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )
