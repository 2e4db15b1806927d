"""What each action takes, as typed models: the web forms, the JSON API and the CLI all hand the
dispatcher one of these (or a dict it reads into one). The type of each field is pydantic's to
check; the rules a person can break (a required note, a reason from the list, the right file) are
`problems()`, in the user's language, one message per field."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from portal.accounts.models import User
from portal.appraisal.models import DECISIONS
from portal.core.clock import china_today
from portal.core.errors import ValidationFailed
from portal.core.uploads import UploadRejected, check_upload
from portal.requests.applying import Upload, check_uploads
from portal.requests.labels import REJECT_REASONS
from portal.core.uploads import MAX_FILES

NOTE_CHARS = 2000
REVOKE_REASON_CHARS = 500


class Input(BaseModel):
    """Every action's input: the version of the object the person saw (optimistic locking)."""
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, str_strip_whitespace=True)

    version: int | None = Field(None, description="the object's version the caller saw; a newer one is a 409")

    @classmethod
    def read(cls, data: Any) -> Input:
        """`data` as this action's input: the model itself, or a dict of its fields."""
        if isinstance(data, cls):
            return data
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            raise ValidationFailed({str(error["loc"][0]) if error["loc"] else "form": _l("格式不正确")
                                    for error in exc.errors()}) from None

    def problems(self, action: str) -> dict[str, Any]:
        return {}

    def timeline_note(self) -> str:
        return ""


class NoteInput(Input):
    """An optional note for the applicant (on the timeline and in the email)."""
    note: str = ""

    def problems(self, action: str) -> dict[str, Any]:
        return {"note": _l("说明不能超过 2000 字")} if len(self.note) > NOTE_CHARS else {}

    def timeline_note(self) -> str:
        return self.note


class RequiredNoteInput(NoteInput):
    """A note the applicant must read: what to add (ask_supplement)."""

    def problems(self, action: str) -> dict[str, Any]:
        return super().problems(action) or ({} if self.note else {"note": _l("请填写说明")})


class RejectInput(RequiredNoteInput):
    """Not approved: a reason from the list and a note, kept together as the timeline note the
    citizen reads ("<reason>：<note>", in Chinese whatever the caller's language)."""
    reason: str = Field("", description="one of " + ", ".join(REJECT_REASONS))

    def problems(self, action: str) -> dict[str, Any]:
        errors = super().problems(action)
        if not self.reason:
            errors["reason"] = _l("请选择不予通过的原因")
        elif self.reason not in REJECT_REASONS:
            errors["reason"] = _l("未知的不予通过理由 %(reason)s (unknown reason %(reason)s)", reason=self.reason[:40])
        return errors

    def timeline_note(self) -> str:
        return f"{REJECT_REASONS[self.reason]}：{self.note}"


class AcceptInput(NoteInput):
    """受理; for "please search for me", the archives (codes) the clerk has search, replacing those
    the applicant named. None: keep them. `identity_checked`: the clerk checked an unverified
    applicant's uploaded ID card (accepting then verifies the account)."""
    archives: list[str] | None = None
    identity_checked: bool = False


class ResubmitInput(NoteInput):
    """The applicant's answer to a request for more: a note, files, or both."""
    files: list[Upload] = []
    _checked: list = PrivateAttr(default_factory=list)

    def problems(self, action: str) -> dict[str, Any]:
        errors = super().problems(action)
        self._checked = check_uploads(self.files, errors)
        if len(self._checked) > MAX_FILES:
            errors["files"] = _l("每次最多上传 %(n)d 个文件", n=MAX_FILES)
        if not self.note and not self._checked and not errors:
            errors["note"] = _l("请填写补充说明，或者上传补充材料")
        return errors

    @property
    def checked(self) -> list:
        return self._checked


class AnswerInput(NoteInput):
    """A holding archive's answer: "verify" with the certified copy, or "not_found" with a note
    saying what was searched."""
    certified_copy: Upload | None = Field(None, alias="copy")
    _checked: Any = PrivateAttr(default=None)

    def problems(self, action: str) -> dict[str, Any]:
        errors = super().problems(action)
        if self.certified_copy is not None:
            try:
                self._checked = check_upload(self.certified_copy.filename, self.certified_copy.stream)
            except UploadRejected as exc:
                errors["copy"] = exc.message
        if action == "verify" and self._checked is None and "copy" not in errors:
            errors["copy"] = _l("请上传核实后的档案复制件（PDF、JPG 或 PNG）")
        if action == "not_found" and self.certified_copy is not None:
            errors["copy"] = _l("报告未找到时不附复制件")
        if action == "not_found" and not self.note:
            errors["note"] = _l("请说明查找了哪些范围")
        return errors

    @property
    def checked(self):
        return self._checked


class VerifyInput(AnswerInput):
    """"verify": the certified copy, a note, and whether the note is printed on the certificate
    (otherwise the certificate states only the verified facts; the note stays on the request)."""
    print_note: bool = False

    def problems(self, action: str) -> dict[str, Any]:
        errors = super().problems(action)
        if self.print_note and not self.note and "note" not in errors:
            errors["note"] = _l("要在证明上打印说明，请填写说明")
        return errors


class ClaimInput(Input):
    """"I'm handling this", or giving it back."""


class ReassignInput(Input):
    """An admin hands the request or task to a member of staff (portal.policy.may_work_on)."""
    to: User | None = Field(None, description="the staff member (a user; the API names them by email)")


class StaffNoteInput(Input):
    """An internal note, for staff only."""
    text: str = ""

    def problems(self, action: str) -> dict[str, Any]:
        if not self.text:
            return {"text": _l("请填写备注内容")}
        return {"text": _l("备注不能超过 2000 字")} if len(self.text) > NOTE_CHARS else {}


class RevokeInput(Input):
    """Why the certificate no longer stands: the applicant reads it."""
    reason: str = ""

    def problems(self, action: str) -> dict[str, Any]:
        if not self.reason:
            return {"reason": _l("请填写撤销原因：申请人会看到")}
        return {"reason": _l("撤销原因不能超过 500 字")} if len(self.reason) > REVOKE_REASON_CHARS else {}

    def timeline_note(self) -> str:
        return self.reason


APPRAISAL_REASON_CHARS = 500


class AppraiseInput(Input):
    """A stage's opinion on some items of an appraisal batch (`decide`): those chosen (`items`),
    every item of a category, or every item (`every`). `follow` takes the previous stage's
    opinion of each. Postponing needs a reason and a later date to look again."""
    items: list[int] = Field(default_factory=list, description="the items' ids")
    category: str = Field("", description="every item of this category")
    every: bool = Field(False, description="every item of the batch")
    decision: str = Field("", description="open, postponed, keep, or follow (the previous stage's)")
    reason: str = ""
    review_on: date | None = Field(None, description="postponed: when to look again (YYYY-MM-DD)")

    def problems(self, action: str) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        if not (self.items or self.category or self.every):
            errors["items"] = _l("请选择要作出意见的档案")
        if self.decision not in (*DECISIONS, "follow"):
            errors["decision"] = _l("请选择鉴定意见")
        if len(self.reason) > APPRAISAL_REASON_CHARS:
            errors["reason"] = _l("理由不能超过 500 字")
        elif self.decision == "postponed" and not self.reason:
            errors["reason"] = _l("延期开放须说明理由")
        if self.decision == "postponed":
            if self.review_on is None:
                errors["review_on"] = _l("延期开放须填写再次鉴定的日期")
            elif self.review_on <= china_today():
                errors["review_on"] = _l("再次鉴定的日期须晚于今天")
        return errors
