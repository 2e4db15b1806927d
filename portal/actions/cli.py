"""`portal act`: any action of portal.actions from a script, as a named person, through the same
dispatcher as the pages and the API (the policy decides; the audit log and timeline say who)."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.service import normalize_email
from portal.actions import act
from portal.certificates.service import CertificateUnavailable, NoCertificate
from portal.core.errors import Conflict, NotAllowed, UnknownAction, ValidationFailed
from portal.db import db
from portal.requests.models import UtilizationRequest
from portal.review.models import VerificationTask


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _fail(message) -> None:
    click.echo(str(message), err=True)
    sys.exit(2)


@click.command("act")
@click.argument("target")
@click.argument("action")
@click.option("--as", "actor_email", required=True, help="email of the person taking the step")
@click.option("--note", default=None)
@click.option("--reason", default=None, help="reject: a reason code; revoke: the reason in words")
@click.option("--archive", "archives", multiple=True, help="accept of a search request: an archive code to search")
@click.option("--to", "to_email", default=None, help="reassign: email of the staff member")
@click.option("--text", default=None, help="note: the internal note")
@click.option("--version", type=int, default=None, help="refuse (409) if the object has changed since this version")
@with_appcontext
def act_command(target, action, actor_email, note, reason, archives, to_email, text, version) -> None:
    """Take ACTION on TARGET: a request number (451200-2026-000001) or task:<task id>."""
    session = db.session
    actor = _user(actor_email)
    if actor is None or not actor.is_active:
        _fail(f"没有这个账号，或账号已停用：{actor_email}")
    if target.startswith("task:"):
        obj = session.scalar(select(VerificationTask).where(VerificationTask.public_id == target[5:]))
    else:
        obj = session.scalar(select(UtilizationRequest).where(UtilizationRequest.number == target))
    if obj is None:
        _fail(f"没有这份申请或协办任务：{target}")
    inputs = {"note": note, "reason": reason, "archives": list(archives) or None, "text": text, "version": version}
    if to_email is not None:
        inputs["to"] = _user(to_email)
    try:
        acting = act(session, obj, action, actor, {k: v for k, v in inputs.items() if v is not None})
    except UnknownAction:
        _fail(f"未知的操作：{action}")
    except NotAllowed:
        _fail(f"{actor.email} 不能对 {target} 执行 {action}")
    except Conflict as exc:
        _fail(exc.message)
    except ValidationFailed as exc:
        _fail("\n".join(f"{field}: {message}" for field, message in exc.errors.items()))
    except CertificateUnavailable as exc:
        _fail(exc.message)
    except NoCertificate:
        _fail(f"{target} 没有可撤销的证明")
    request = acting.request
    click.echo(f"{request.number}: {request.status}（版本 {request.version}）")
