"""What the request pages and emails call things: one label per code, translated where shown."""
from __future__ import annotations

from portal.core.i18n import N_

RELATION_LABELS = {"self": N_("本人"), "relative": N_("近亲属（配偶、父母、子女、兄弟姐妹）"), "heir": N_("继承人"),
                   "agent": N_("受托人"), "lawyer": N_("律师"), "institution": N_("单位")}
PURPOSE_LABELS = {"pension": N_("办理养老保险或退休"), "inheritance": N_("继承"), "property": N_("土地或房产纠纷"),
                  "litigation": N_("诉讼"), "household": N_("户籍办理"), "other": N_("其他")}
DELIVERY_LABELS = {"download": N_("网上下载电子证明"), "pickup": N_("到出证档案馆领取"), "post": N_("邮寄")}
FILE_LABELS = {"applicant_id": N_("申请人身份证件"), "relationship_proof": N_("亲属关系证明"), "death_proof": N_("死亡证明"),
               "power_of_attorney": N_("授权委托书"), "principal_id": N_("委托人身份证件"),
               "practice_certificate": N_("律师执业证"), "firm_letter": N_("律师事务所介绍信"),
               "official_letter": N_("单位介绍信（公函）"), "supplement": N_("其他材料")}
STATUS_LABELS = {
    "submitted": N_("已提交"),
    "in_review": N_("审核中"),
    "needs_supplement": N_("待补充材料"),
    "approved": N_("已通过"),
    "issued": N_("已出证"),
    "rejected": N_("未通过"),
    "withdrawn": N_("已撤回"),
}
ROLE_LABELS = {"applicant": N_("申请人"), "clerk": N_("查档接待员"), "reviewer": N_("审核员"),
               "admin": N_("管理员"), "system": N_("系统"), "peer": N_("协作节点")}
TASK_STATUS_LABELS = {"open": N_("待核实"), "verified": N_("已核实"), "not_found": N_("未找到"),
                      "cancelled": N_("已取消")}
# What each action is called, on buttons and on the timeline: the request's state changes, the
# holding archive's answers, the certificate revoked (portal.actions declares what each does).
ACTION_LABELS = {
    "submit": N_("提交申请"),
    "withdraw": N_("撤回申请"),
    "resubmit": N_("补充材料"),
    "accept": N_("受理"),
    "ask_supplement": N_("要求补充材料"),
    "reject": N_("不予通过"),
    "approve": N_("审核通过"),
    "issue": N_("出具证明"),
    "verify": N_("馆藏馆核实"),
    "not_found": N_("馆藏馆未找到"),
    "revoke": N_("撤销证明"),
    # Across nodes (portal.federation.messages): the task sent to the holding node and received there.
    "peer_task_sent": N_("协办任务已送达馆藏节点"),
    "peer_task_cancelled": N_("已通知馆藏节点取消协办"),
    "peer_received": N_("收到出证节点的协办任务"),
}
# A message to another node about a task (portal.federation.messages), on the staff request page.
PEER_MESSAGE_LABELS = {"pending": N_("等待送达（自动重试）"), "delivered": N_("已送达"), "failed": N_("送达失败"),
                       "received": N_("已收到")}
PEER_MESSAGE_KINDS = {"task.create": N_("协办任务"), "task.cancel": N_("取消协办"), "task.answer": N_("核实结果")}
# Why a reviewer does not approve: a code from this list and a note, kept together on the timeline.
REJECT_REASONS = {
    "proof": N_("证明材料不足或无效"),
    "no_right": N_("申请人无权利用该档案"),
    "closed": N_("档案尚在控制使用期内"),
    "not_held": N_("各馆均未保存所申请的档案"),
    "other": N_("其他原因"),
}
