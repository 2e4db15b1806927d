"""What the action dispatcher (portal.actions.act) hands each guard and step of an action: one
object for one attempt, so a step reads the inputs and leaves what it made for the next."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class Acting:
    session: Session
    target: Any           # the request, the verification task or the appraisal batch acted on
    action: str
    actor: Any            # the signed-in user
    inputs: Any           # the action's typed input (portal.actions.inputs)
    role: str = ""        # the role the actor holds on the target (portal.policy.roles_on)
    ip: str = ""
    from_status: str = ""  # the request's status before the step
    event: Any = None     # the timeline event written for the step, if any
    result: Any = None    # what a step made for the caller (the certificate of `issue`)

    @property
    def request(self):
        """The request the target belongs to (a task's request, or the request itself)."""
        return getattr(self.target, "request", None) or self.target
