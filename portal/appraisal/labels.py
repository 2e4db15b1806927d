"""What the appraisal pages call things: one label per code, translated where shown."""
from __future__ import annotations

from portal.core.i18n import N_

STATUS_LABELS = {"first_review": N_("初审中"), "second_review": N_("复审中"), "decision": N_("审定中"),
                 "decided": N_("已审定"), "cancelled": N_("已撤销")}
STAGE_LABELS = {"first": N_("初审"), "second": N_("复审"), "final": N_("审定")}
DECISION_LABELS = {"open": N_("开放"), "postponed": N_("延期开放"), "keep": N_("维持现状")}
ACTION_LABELS = {"decide": N_("作出鉴定意见"), "appraise_first": N_("完成初审"), "appraise_second": N_("完成复审"),
                 "appraise_decide": N_("审定并公布"), "cancel": N_("撤销批次")}
