"""A small, real OpenID Connect provider for the tests of portal/accounts/oidc.py: a stand-in for a
provincial government-service platform's real-name service (政务服务网实名认证).

Built with Authlib's server side (authlib.integrations.flask_oauth2.AuthorizationServer, the
authorization-code grant with authlib.oidc.core.OpenIDCode and PKCE) and run as a separate process,
so the portal's client talks to it over real HTTP exactly as it would to the real thing::

    python -m tests.oidc_provider --port 8123 --client-id portal --client-secret s3cret \\
        --redirect-uri http://127.0.0.1:5000/verify-identity/oidc/callback --admin-token t0ken

It serves discovery (/.well-known/openid-configuration), JWKS (/jwks), /authorize, /token and
/userinfo, and signs ID tokens (RS256) with an RSA key it generates at start. It is strict where a
real provider would be: a registered client and redirect URI only, PKCE with S256 and a nonce are
required, a code is single-use.

Nobody logs in: /authorize approves at once, as the person the test configured through the admin
endpoint (header X-Admin-Token; the ID number never travels in a URL)::

    POST /admin/user  {"name": "韦秀英", "id_number": "...",   # null/absent: the claim is left out
                       "claims_in": "id_token" | "userinfo",  # where name and ID number are given
                       "deny": false,                          # the person refuses consent
                       "fault": null | "forged_signature" | "wrong_audience" | "wrong_issuer"
                                | "wrong_nonce" | "token_endpoint_down"}
    GET  /admin/last-authorization   # what the last /authorize was asked (scope, PKCE method, ...)
"""
from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo, UserInfoEndpoint
from flask import Flask, abort, jsonify, request
from joserfc.jwk import KeySet, RSAKey

SCOPES = ["openid", "profile", "id_number"]
FAULTS = {None, "forged_signature", "wrong_audience", "wrong_issuer", "wrong_nonce", "token_endpoint_down"}


# ---- the provider's records (in memory: one process per test session) -----------------------------

@dataclass
class Person:
    name: str | None
    id_number: str | None

    @property
    def sub(self) -> str:
        """A pairwise-looking subject that says nothing about the ID number."""
        return "u-" + hashlib.sha256(f"{self.id_number}|{self.name}".encode()).hexdigest()[:20]


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str
    client_metadata: dict = field(default_factory=dict)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uri

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post") if endpoint == "token" else True

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def is_expired(self):
        return time.time() - self.auth_time > 600

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


@dataclass
class Token:
    access_token: str
    client: Client
    user: Person
    scope: str
    issued_at: float
    expires_in: int

    def check_client(self, client):
        return client.client_id == self.client.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self):
        return False

    def get_user(self):
        return self.user

    def get_client(self):
        return self.client


class State:
    """What the tests configure, and what the provider has handed out."""

    def __init__(self, name: str | None, id_number: str | None):
        self.lock = threading.Lock()
        self.person = Person(name, id_number)
        self.claims_in, self.deny, self.fault = "id_token", False, None
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, Token] = {}
        self.nonces: set[str] = set()
        self.last_authorization: dict = {}


# ---- the app --------------------------------------------------------------------------------------

def create_app(*, issuer: str, client: Client, id_claim: str, admin_token: str,
               name: str | None = None, id_number: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["OAUTH2_SCOPES_SUPPORTED"] = SCOPES
    state = State(name, id_number)
    key = RSAKey.generate_key(2048, parameters={"kid": "sig-1", "use": "sig", "alg": "RS256"}, private=True)
    # Same kid, not published: an ID token signed with it must fail the client's signature check.
    forger = RSAKey.generate_key(2048, parameters={"kid": "sig-1", "use": "sig", "alg": "RS256"}, private=True)

    def claims_for(person: Person, scope: str, where: str) -> UserInfo:
        info = UserInfo(sub=person.sub)
        if state.claims_in == where or where == "userinfo":
            scopes = scope.split()
            if "profile" in scopes and person.name is not None:
                info["name"] = person.name
            if id_claim in scopes and person.id_number is not None:
                info[id_claim] = person.id_number
        return info

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code, req):
            data = req.payload.data
            with state.lock:
                state.nonces.add(data.get("nonce"))
                state.codes[code] = AuthorizationCode(
                    code=code, client_id=req.client.client_id, redirect_uri=req.payload.redirect_uri,
                    scope=req.scope, user=req.user, nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"))

        def query_authorization_code(self, code, client):
            item = state.codes.get(code)
            if item and item.client_id == client.client_id and not item.is_expired():
                return item
            return None

        def delete_authorization_code(self, authorization_code):
            with state.lock:
                state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class IdToken(OpenIDCode):
        def exists_nonce(self, nonce, req):
            return nonce in state.nonces  # a nonce of an earlier code: a replayed request

        def resolve_client_private_key(self, client):
            return (forger if state.fault == "forged_signature" else key).as_dict(private=True)

        def get_client_algorithm(self, client):
            return "RS256"

        def get_encode_header(self, client):
            return {"alg": "RS256", "kid": "sig-1"}

        def get_client_claims(self, client):
            claims = {"iss": "http://evil.example" if state.fault == "wrong_issuer" else issuer}
            claims["aud"] = ["someone-else"] if state.fault == "wrong_audience" else [client.get_client_id()]
            return claims

        def get_authorization_code_claims(self, authorization_code):
            claims = super().get_authorization_code_claims(authorization_code)
            if state.fault == "wrong_nonce":
                claims["nonce"] = "not-the-nonce-you-sent"
            return claims

        def generate_user_info(self, user, scope):
            return claims_for(user, scope, "id_token")

    class S256Only(CodeChallenge):
        """Refuse an authorization request without PKCE, or with the `plain` method."""
        SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

        def validate_code_challenge(self, grant, redirect_uri):
            if grant.request.payload.data.get("code_challenge_method") != "S256":
                raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
            super().validate_code_challenge(grant, redirect_uri)

    class Bearer(BearerTokenValidator):
        def authenticate_token(self, token_string):
            return state.tokens.get(token_string)

    class UserInfoView(UserInfoEndpoint):
        def get_issuer(self):
            return issuer

        def generate_user_info(self, user, scope):
            return claims_for(user, scope, "userinfo")

    def save_token(token, req):
        with state.lock:
            state.tokens[token["access_token"]] = Token(
                access_token=token["access_token"], client=req.client, user=req.user, scope=token.get("scope", ""),
                issued_at=time.time(), expires_in=int(token.get("expires_in", 3600)))

    server = AuthorizationServer(app, query_client=lambda cid: client if cid == client.client_id else None,
                                 save_token=save_token)
    server.register_grant(CodeGrant, [IdToken(require_nonce=True), S256Only(required=True)])
    protector = ResourceProtector()
    protector.register_token_validator(Bearer())
    server.register_endpoint(UserInfoView(resource_protector=protector))

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "name", id_claim],
        })

    @app.get("/jwks")
    def jwks():
        return jsonify(KeySet([key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize():
        state.last_authorization = {k: request.args.get(k) for k in (
            "response_type", "client_id", "redirect_uri", "scope", "code_challenge_method", "prompt")}
        state.last_authorization.update(has_state=bool(request.args.get("state")),
                                        has_nonce=bool(request.args.get("nonce")),
                                        has_code_challenge=bool(request.args.get("code_challenge")))
        try:
            grant = server.get_consent_grant(end_user=state.person)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=None if state.deny else state.person)

    @app.post("/token")
    def token():
        if state.fault == "token_endpoint_down":
            return "Service Unavailable", 503
        return server.create_token_response()

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        return server.create_endpoint_response("userinfo")

    def _admin():
        if not secrets.compare_digest(request.headers.get("X-Admin-Token", "").encode(), admin_token.encode()):
            abort(403)

    @app.post("/admin/user")
    def admin_user():
        _admin()
        body = request.get_json(force=True)
        if body.get("fault") not in FAULTS or body.get("claims_in", "id_token") not in ("id_token", "userinfo"):
            abort(400)
        with state.lock:
            state.person = Person(body.get("name"), body.get("id_number"))
            state.claims_in = body.get("claims_in", "id_token")
            state.deny, state.fault = bool(body.get("deny")), body.get("fault")
            state.last_authorization = {}
        return jsonify({"sub": state.person.sub})

    @app.get("/admin/last-authorization")
    def admin_last_authorization():
        _admin()
        return jsonify(state.last_authorization)

    return app


def main(argv: list[str] | None = None) -> None:
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--id-claim", default="id_number")
    parser.add_argument("--name", help="the person /authorize approves as (or set it through /admin/user)")
    parser.add_argument("--id-number")
    args = parser.parse_args(argv)
    issuer = f"http://{args.host}:{args.port}"
    app = create_app(issuer=issuer, client=Client(args.client_id, args.client_secret, args.redirect_uri),
                     id_claim=args.id_claim, admin_token=args.admin_token, name=args.name, id_number=args.id_number)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    make_server(args.host, args.port, app, threaded=True).serve_forever()


def _exit_with_parent(parent: int) -> None:
    """A test run killed outright leaves no provider behind."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


if __name__ == "__main__":
    main()
