"""What the request pages and emails call things: one label per code, translated where shown."""
from __future__ import annotations

from portal.core.i18n import N_

RELATION_LABELS = {"self": N_("本人"), "relative": N_("近亲属（配偶、父母、子女、兄弟姐妹）"), "heir": N_("继承人"),
                   "agent": N_("受托人"), "lawyer": N_("律师"), "institution": N_("单位")}
PURPOSE_LABELS = {"pension": N_("办理养老保险或退休"), "inheritance": N_("继承"), "property": N_("土地或房产纠纷"),
                  "litigation": N_("诉讼"), "household": N_("户籍办理"), "other": N_("其他")}
DELIVERY_LABELS = {"download": N_("网上下载电子证明"), "pickup": N_("到出证档案馆领取"), "post": N_("邮寄")}
FILE_LABELS = {"relationship_proof": N_("亲属关系证明"), "death_proof": N_("死亡证明"),
               "power_of_attorney": N_("授权委托书"), "principal_id": N_("委托人身份证件"),
               "practice_certificate": N_("律师执业证"), "firm_letter": N_("律师事务所介绍信"),
               "official_letter": N_("单位介绍信（公函）"), "supplement": N_("其他材料")}
# Steps on a request's timeline that are not state changes: a holding archive's answer.
TASK_ACTION_LABELS = {"verify": N_("馆藏馆核实"), "not_found": N_("馆藏馆未找到")}
# Steps on an issued request's timeline: the certificate revoked.
CERTIFICATE_ACTION_LABELS = {"revoke": N_("撤销证明")}


def event_labels() -> dict[str, str]:
    """The label of every kind of timeline event: the state changes and the steps that are not."""
    from portal.requests.workflow import TRANSITIONS

    return {**{a: t.label for a, t in TRANSITIONS.items()}, **TASK_ACTION_LABELS, **CERTIFICATE_ACTION_LABELS}
