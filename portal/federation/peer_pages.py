"""The network admin's page of trusted peers, /admin/peers: this node's name, URL and public key
(what the admin reads out to the other node's admin), the peers with their key's fingerprint,
"add", "check" (one signed ping) and "remove" (after a confirmation). Adding and removing are
audited (portal.federation.peers). Registered on the administration blueprint; only the network
admin (policy.may_manage_peers) sees it: anyone else signed in gets a 404."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from portal import policy
from portal.admin.views import bp
from portal.db import db
from portal.federation import peers as service
from portal.federation.client import PeerUnavailable, call
from portal.federation.node import NodeError, check_name, check_url, fingerprint, read_public_key, this_node
from portal.web_util import client_ip, render, role_required, see_other

network_admin_required = role_required(policy.may_manage_peers)
CHECK_TIMEOUT = (3.0, 10.0)


class PeerForm(FlaskForm):
    name = StringField(_l("节点名称"))
    url = StringField(_l("节点网址"))
    public_key = TextAreaField(_l("节点公钥"))
    meili_url = StringField(_l("Meilisearch 网址（选填）"))
    meili_key = StringField(_l("Meilisearch 搜索密钥（选填）"))


class ConfirmForm(FlaskForm):
    """Check and remove: a button (CSRF only)."""


def field_errors(form: PeerForm) -> dict[str, str]:
    """Every problem with what was typed, by field (the service would stop at the first)."""
    errors: dict[str, str] = {}
    name = (form.name.data or "").strip()
    try:
        check_name(name)
    except NodeError:
        errors["name"] = _("节点名称须为 2 到 16 个小写字母或数字，以字母开头，如 hechi。")
    else:
        me = this_node()
        if me is not None and me.name == name:
            errors["name"] = _("这是本节点自己的名称。")
    for field in ("url", "meili_url"):
        value = (getattr(form, field).data or "").strip()
        if value or field == "url":
            try:
                check_url(value)
            except NodeError:
                errors[field] = _("须为 http:// 或 https:// 开头的网址，不带查询参数，如 https://archives.example.cn。")
    try:
        read_public_key(form.public_key.data or "")
    except NodeError:
        errors["public_key"] = _("公钥无效：应为对方管理员运行 portal node show 得到的 44 个字符（Base64）。")
    if (form.meili_key.data or "").strip() and not (form.meili_url.data or "").strip():
        errors["meili_url"] = _("填写了搜索密钥时，也须填写 Meilisearch 网址。")
    return errors


def _page(form: PeerForm, status: int = 200):
    node = this_node()
    return render("admin/peers.html", form=form, node=node, node_fingerprint=fingerprint(node.public_key) if node else "",
                  peers=service.list_peers(db.session), fingerprint=fingerprint, confirm=ConfirmForm(), status=status)


@bp.get("/peers")
@network_admin_required
def peers_page():
    return _page(PeerForm(formdata=None))


@bp.post("/peers")
@network_admin_required
def peer_add():
    form = PeerForm()
    if not form.validate_on_submit():  # the CSRF token
        return _page(form, status=400)
    errors = field_errors(form)
    if errors:
        for name, message in errors.items():
            getattr(form, name).errors = [message]
        return _page(form, status=422)
    existed = service.get_peer(db.session, form.name.data.strip()) is not None
    try:
        peer = service.add_peer(db.session, form.name.data, form.url.data, form.public_key.data,
                                meili_url=(form.meili_url.data or "").strip() or None,
                                meili_key=(form.meili_key.data or "").strip() or None,
                                added_by=current_user.email, actor=current_user, ip=client_ip())
    except NodeError as exc:  # checked above; what is left is the service's own word
        db.session.rollback()
        form.name.errors = [str(exc)]
        return _page(form, status=422)
    flash(_("已更新对等节点 %(name)s。", name=peer.name) if existed else
          _("已添加对等节点 %(name)s。请对方管理员也添加本节点，然后点“检查”确认双方的签名都被接受。", name=peer.name),
          "success")
    return see_other(url_for("admin.peers_page") + f"#peer-{peer.name}")


def _peer_or_404(name: str):
    peer = service.get_peer(db.session, name)
    if peer is None:
        abort(404)
    return peer


@bp.post("/peers/<name>/check")
@network_admin_required
def peer_check(name: str):
    """One signed call to the peer's /federation/v1/ping: does it answer, and take our signature?"""
    peer = _peer_or_404(name)
    if not ConfirmForm().validate_on_submit():
        return _page(PeerForm(formdata=None), status=400)
    try:
        answer = call(peer, "GET", "/federation/v1/ping", timeout=CHECK_TIMEOUT)
    except NodeError:
        flash(_("本节点尚未初始化，无法签名：请先运行 portal node init。"), "error")
    except PeerUnavailable:
        flash(_("无法连接 %(name)s（%(url)s）：对方没有答复或出错，请确认网址正确、对方正在运行。",
                name=peer.name, url=peer.url), "error")
    else:
        if answer.status_code == 200:
            flash(_("%(name)s 已接受本节点的签名，连接正常。", name=peer.name), "success")
        else:
            flash(_("%(name)s 拒绝了本节点的签名（HTTP %(status)s）：请对方管理员确认已添加本节点，且公钥与本页所示一致。",
                    name=peer.name, status=answer.status_code), "error")
    return see_other(url_for("admin.peers_page") + f"#peer-{peer.name}")


@bp.route("/peers/<name>/remove", methods=["GET", "POST"])
@network_admin_required
def peer_remove(name: str):
    """GET: the confirmation; POST: stop trusting the peer (what it sent stays on record)."""
    peer = _peer_or_404(name)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        service.remove_peer(db.session, peer.name, actor=current_user, ip=client_ip())
        flash(_("已移除对等节点 %(name)s：它的请求从现在起将被拒绝，已收到的内容仍保留。", name=name), "success")
        return see_other(url_for("admin.peers_page"))
    return render("admin/peer_remove.html", peer=peer, form=form, fingerprint=fingerprint(peer.public_key),
                  status=400 if request.method == "POST" else 200)
