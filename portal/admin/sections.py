"""The administration landing page's sections: each area registers its own, with the archive
action (portal.policy.ARCHIVE_RULES) a person needs to see it."""
from __future__ import annotations

from dataclasses import dataclass

from portal import policy


@dataclass(frozen=True)
class Section:
    endpoint: str   # takes the archive's code as `code`
    label: str      # a msgid (translated on the page)
    action: str     # the archive action it needs
    order: int = 50


SECTIONS: list[Section] = []


def section(endpoint: str, label: str, action: str, order: int = 50) -> None:
    if all(s.endpoint != endpoint for s in SECTIONS):
        SECTIONS.append(Section(endpoint, label, action, order))
        SECTIONS.sort(key=lambda s: s.order)


def sections_for(viewer, archive_id: int) -> list[Section]:
    return [s for s in SECTIONS if policy.may(viewer, s.action, archive_id)]
