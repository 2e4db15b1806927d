"""Verifying a citizen's identity with an external real-name provider over OpenID Connect (the
real-name service of a provincial government-service platform, 政务服务网), with Authlib's Flask
client (`FlaskOAuth2App`).

Configured by environment (portal/config.py): PORTAL_OIDC_ISSUER (unset: the feature is off and
both routes answer 404), PORTAL_OIDC_CLIENT_ID / _CLIENT_SECRET, PORTAL_OIDC_ID_CLAIM (the claim
that carries the resident ID number), PORTAL_OIDC_NAME_CLAIM and PORTAL_OIDC_LABEL (the provider's
name on the buttons).

The flow, for a signed-in citizen:
1. GET /verify-identity/oidc reads the provider's discovery document
   (`<issuer>/.well-known/openid-configuration`; its `issuer` must be the configured one) and sends
   the browser to the provider's authorization endpoint: the authorization-code flow with PKCE
   (S256), a `state` and a `nonce` (kept in this browser's signed session until the callback),
   `prompt=login` (a reading-room computer may still be signed in to the provider as the person
   before), scope `openid profile`, plus a scope named after the ID claim when the provider's
   discovery lists one (the usual way a provider gates a non-standard claim).
2. GET /verify-identity/oidc/callback checks the `state`, exchanges the code (with the PKCE
   verifier and the client secret) and validates the ID token: its signature against the
   provider's JWKS, `iss` (the discovered issuer), `aud` (our client id), the `nonce`, the times.
   A token answer without an ID token is refused. The name and the ID number are read from the
   ID token, or, where it does not carry them, from the userinfo endpoint (whose `sub` must be the
   ID token's). The tokens are then dropped: nothing of them is stored, in the database or the
   session.

What the provider's identity does to the account (portal.accounts.identity.claim_identity):
- It is a checked identity, as an ID card at a counter is; the self-asserted one gives way to it.
  The same ID number and the same name (in either script, `same_name`: 韋秀英 is 韦秀英, and the
  account keeps its spelling) → the account is verified (method `oidc`, in the audit log).
- An unverified account that registered a different ID number or name takes the provider's
  (recorded as `identity_corrected`) and is verified: a typo at registration, or an account that
  had claimed someone else's number, now holds its holder's own.
- Another, unverified account that held this ID number (an impostor's, or an old one) is frozen
  and its owner emailed how to appeal at a reading room; another verified account holding it is a
  conflict: nothing changes and the citizen is sent to a reading room.
- An account already verified as a different ID number is not rewritten from a provider log-in
  (someone signed in to the provider as a relative, say): nothing changes, the citizen is sent to a
  reading room. (claim_identity would re-identify it; a checked identity is only corrected in person.)

Every failure (provider down or answering nonsense, consent refused, a stale or forged `state`, an
invalid ID token, a missing or malformed claim, a conflict) ends on the account page with a message
in Chinese, never a 500. The ID number never goes into a URL or a log line: the logs name the
failure, the account's id and the exception's class, never a claim.
"""
from __future__ import annotations

import logging
import re

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError
from sqlalchemy.exc import IntegrityError

from portal.accounts.identity import IdentityConflict, VerifiedAsSomeoneElse, claim_identity
from portal.core.idnumber import InvalidIdNumber, normalize_id_number
from portal.core.masking import same_name
from portal.core.personal_data import cipher
from portal.db import db
from portal.web_util import citizen_only, client_ip, public_url

bp = Blueprint("oidc", __name__, url_prefix="/verify-identity/oidc")
log = logging.getLogger(__name__)

NAME = "oidc"  # the client's name: its state lives under session["_state_oidc_<state>"]
TIMEOUT = 10  # seconds for each call to the provider: a hung provider must not hold a worker
# What a provider that is down or answers nonsense raises from Authlib, requests and joserfc (an OAuth
# error answer, an invalid ID token, a missing jwks_uri, a body that is not the JSON it should be):
# each ends on the account page with a message.
PROVIDER_ERRORS = (requests.RequestException, AuthlibBaseError, JoseError, ValueError, KeyError, TypeError,
                   RuntimeError)


class Refused(Exception):
    """The verification stops here: `reason` for the log, `message` for the citizen."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason, self.message = reason, message


@bp.before_request
def _configured():
    if not current_app.config.get("OIDC_ISSUER"):
        abort(404)


def _label() -> str:
    return current_app.config["OIDC_LABEL"]


def _client() -> FlaskOAuth2App:
    """Authlib's Flask client, made per request from the configuration (it changes without a
    restart in tests, and the discovery document is read afresh, so rotated keys are picked up)."""
    config = current_app.config
    return FlaskOAuth2App(
        FlaskIntegration(NAME), NAME,
        client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{config['OIDC_ISSUER']}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic", "default_timeout": TIMEOUT},
    )


def _metadata(client: FlaskOAuth2App) -> dict:
    metadata = client.load_server_metadata()
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != current_app.config["OIDC_ISSUER"]:
        raise Refused("discovery names another issuer", _invalid())
    return metadata


def _scope(metadata: dict) -> str:
    scopes = ["openid", "profile"]
    claim = current_app.config["OIDC_ID_CLAIM"]
    if claim in (metadata.get("scopes_supported") or ()) and claim not in scopes:
        scopes.append(claim)
    return " ".join(scopes)


def _redirect_uri() -> str:
    """From the configured public address, never from the request's Host header."""
    return public_url("oidc.callback")


def _forget_flows() -> None:
    """Drop this browser's unfinished flows: one at a time, and nothing left in the cookie."""
    for key in [key for key in session if key.startswith(f"_state_{NAME}_")]:
        session.pop(key, None)


def _back(message: str, category: str = "error"):
    flash(message, category)
    return redirect(url_for("accounts.account"), 303)


def _stop(reason: str, message: str, exc: BaseException | None = None):
    """Log why (the failure and the exception's class, never a claim's value) and go back to the
    account page with `message`."""
    detail = ""
    if exc is not None:
        code = getattr(exc, "error", None)
        detail = f" ({type(exc).__name__}{f' {code}' if code else ''})"
    log.warning("OIDC identity verification of user %s refused: %s%s", current_user.get_id(), reason, detail)
    return _back(message)


def _refused(reason: str, exc: BaseException | None = None):
    """Stop for one of the failures the provider's side can cause, with its message."""
    label = _label()
    messages = {
        "provider unreachable": _("暂时无法连接%(label)s，请稍后再试，或携带身份证到任一档案馆查档大厅核验。", label=label),
        "consent refused": _("您没有在%(label)s完成授权，身份未核验。", label=label),
        "bad state": _("核验请求已失效或不是从本网站发起的，请重新点击核验按钮。"),
        "invalid answer": _invalid(),
    }
    return _stop(reason, messages[reason], exc)


def _invalid() -> str:
    return _("%(label)s返回的身份信息无法验证，身份未核验。", label=_label())


@bp.get("")
@citizen_only
def start():
    """Send the browser to the provider (the authorization request)."""
    try:
        client = _client()
        metadata = _metadata(client)
        _forget_flows()
        return client.authorize_redirect(_redirect_uri(), scope=_scope(metadata), prompt="login")
    except Refused as refused:
        return _stop(refused.reason, refused.message)
    except PROVIDER_ERRORS as exc:
        return _refused("provider unreachable", exc)


@bp.get("/callback")
@citizen_only
def callback():
    """The provider sends the browser back here with a code (or an error)."""
    state_key = f"_state_{NAME}_{request.args.get('state', '')}"
    if error := request.args.get("error"):
        known = state_key in session
        session.pop(state_key, None)
        if not known:  # an error answer to a request this browser did not send
            return _refused("bad state")
        refused = error in ("access_denied", "consent_required", "login_required", "interaction_required")
        code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "?"  # the provider's words go to the log
        return _refused("consent refused" if refused else "invalid answer", OAuthError(error=code))
    if state_key not in session:  # no flow of this browser: refused before the provider is asked anything
        return _refused("bad state")
    try:
        claims = _provider_claims()
    except Refused as refused:
        return _stop(refused.reason, refused.message)
    except MismatchingStateError as exc:  # no flow of this browser has this state
        return _refused("bad state", exc)
    except requests.RequestException as exc:  # no connection, a timeout, a 5xx
        return _refused("provider unreachable", exc)
    except PROVIDER_ERRORS as exc:  # an OAuth error answer, an invalid ID token, a malformed answer
        return _refused("invalid answer", exc)
    finally:
        g.pop(f"_oauth_token_{NAME}", None)  # Authlib keeps the token on flask.g: not a moment longer
        session.pop(state_key, None)
    return _claim(*claims)


def _provider_claims() -> tuple[str, str]:
    """The (name, ID number) the provider vouches for, from a validated ID token (or the userinfo
    of the same subject); raises on anything less."""
    config = current_app.config
    client = _client()
    metadata = _metadata(client)
    issuer = metadata["issuer"]
    token = client.authorize_access_token(claims_options={
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [config["OIDC_CLIENT_ID"]]},
        "sub": {"essential": True},
    })
    id_token = token.get("userinfo")  # set only when an ID token came back and passed validation
    if not id_token:
        raise Refused("no ID token in the token answer", _invalid())
    name_claim, id_claim = config["OIDC_NAME_CLAIM"], config["OIDC_ID_CLAIM"]
    name, number = id_token.get(name_claim), id_token.get(id_claim)
    if (not name or not number) and metadata.get("userinfo_endpoint"):
        info = client.userinfo(token=token)
        if info.get("sub") != id_token["sub"]:
            raise Refused("userinfo is about another subject", _invalid())
        name, number = name or info.get(name_claim), number or info.get(id_claim)
    if not isinstance(name, str) or not isinstance(number, str) or not name.strip() or not number.strip():
        raise Refused("name or ID number claim missing",
                      _("%(label)s没有提供您的姓名和身份证号码，身份未核验。", label=_label()))
    try:
        number = normalize_id_number(number)
    except InvalidIdNumber:
        raise Refused("ID number claim malformed",
                      _("%(label)s提供的身份证号码无效，身份未核验。", label=_label())) from None
    name = name.strip()
    if len(name) > 50:
        raise Refused("name claim too long", _invalid())
    return name, number


def _claim(name: str, number: str):
    """Give the account the identity the provider vouched for (see the module's docstring)."""
    user = current_user._get_current_object()
    if same_name(name, user.real_name):
        name = user.real_name  # the same name in the other script: keep the account's spelling
    corrected = user.id_number_hash != cipher().lookup_hash(number) or user.real_name != name
    try:
        claim_identity(db.session, user, number, name, method="oidc", actor=None, ip=client_ip())
        db.session.commit()
    except VerifiedAsSomeoneElse:
        db.session.rollback()
        return _stop("the account is verified as another ID number", _(
            "您的账号已核验为另一身份，不能改为%(label)s提供的身份。如需更正，请携带身份证到任一档案馆查档大厅办理。",
            label=_label()))
    except (IdentityConflict, IntegrityError):  # verified on another account (or at this very moment)
        db.session.rollback()
        return _stop("the ID number is verified on another account",
                     _("这个身份证号码已在另一个账号上核验过，请携带身份证到任一档案馆查档大厅处理。"))
    if corrected:
        return _back(_("已通过%(label)s核验您的身份，账号中的姓名和身份证号码已按%(label)s提供的信息更正。", label=_label()),
                     "success")
    return _back(_("已通过%(label)s核验您的身份。", label=_label()), "success")
