"""The application form. Values are checked by the service (one set of rules for the web and the
API); the form keeps what was typed and shows the service's messages next to each field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, IntegerField, MultipleFileField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.categories import CATEGORIES
from portal.requests.applying import required_proofs
from portal.requests.labels import DELIVERY_LABELS, FILE_LABELS, PURPOSE_LABELS, RELATION_LABELS

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
# Built from the dictionary, so that Babel extracts the Chinese labels and not the dictionary keys.
_FILE_LABELS = {kind: _l(label) for kind, label in FILE_LABELS.items()}


def _choices(labels: dict, placeholder: bool = False) -> list[SelectChoice]:
    first = [SelectChoice("", _l("请选择"))] if placeholder else []
    return first + [SelectChoice(code, _l(label)) for code, label in labels.items()]


class ApplyForm(FlaskForm):
    kind = HiddenField(default="records")
    submission_key = HiddenField()
    relation = RadioField(_l("您与档案当事人的关系"), choices=_choices(RELATION_LABELS), validate_choice=False)
    subject_name = StringField(_l("档案当事人姓名"))
    subject_id_number = StringField(_l("档案当事人身份证号码"))
    search_category = SelectField(_l("档案类别"), choices=_choices(CATEGORIES, placeholder=True),
                                  validate_choice=False)
    year_from = StringField(_l("大约起始年份（选填）"))
    year_to = StringField(_l("大约截止年份（选填）"))
    search_place = StringField(_l("地点（选填），如乡镇、村"))
    search_archives = SelectMultipleField(_l("可能保存档案的档案馆（选填，不选则由出证档案馆查找）"),
                                          validate_choice=False, widget=ListWidget(prefix_label=False),
                                          option_widget=CheckboxInput())
    purpose = SelectField(_l("利用目的"), choices=_choices(PURPOSE_LABELS, placeholder=True),
                          validate_choice=False)
    purpose_note = StringField(_l("利用目的说明"))
    issuing_archive = SelectField(_l("出证档案馆（在哪个档案馆领取证明）"), validate_choice=False)
    delivery = RadioField(_l("领取方式"), choices=_choices(DELIVERY_LABELS), default="download",
                          validate_choice=False)
    address = StringField(_l("邮寄地址（含收件人、电话）"))
    consent = BooleanField(_l("我同意档案馆为办理本申请处理申请中的个人信息（包括档案当事人的姓名、身份证号码和上传的证明材料）"))

    applicant_id = MultipleFileField(_FILE_LABELS["applicant_id"])
    relationship_proof = MultipleFileField(_FILE_LABELS["relationship_proof"])
    death_proof = MultipleFileField(_FILE_LABELS["death_proof"])
    power_of_attorney = MultipleFileField(_FILE_LABELS["power_of_attorney"])
    principal_id = MultipleFileField(_FILE_LABELS["principal_id"])
    practice_certificate = MultipleFileField(_FILE_LABELS["practice_certificate"])
    firm_letter = MultipleFileField(_FILE_LABELS["firm_letter"])
    official_letter = MultipleFileField(_FILE_LABELS["official_letter"])
    supplement = MultipleFileField(_FILE_LABELS["supplement"])

    def set_archives(self, archives) -> None:
        choices = [SelectChoice(a.code, a.name) for a in archives]
        self.issuing_archive.choices = [SelectChoice("", _l("请选择")), *choices]
        self.search_archives.choices = choices

    def proof_fields(self, applicant):
        """The upload fields the chosen relation (and the applicant's identity level) needs, then one
        for anything else."""
        kinds = required_proofs(self.relation.data, applicant)
        return [getattr(self, kind) for kind in (*kinds, "supplement")]


class ActionForm(FlaskForm):
    """Withdraw, or answer a request for more (note and files)."""
    version = IntegerField()
    note = TextAreaField(_l("说明"))
    files = MultipleFileField(_l("补充材料（PDF、JPG 或 PNG，每个不超过 10 MB，最多 5 个）"))
