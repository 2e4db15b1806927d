"""indexes the statistics read by: timeline events by action and time, tasks by when they were
created and answered, certificates by when they were issued

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_request_event_action_at", "request_event", ["action", "at", "request_id"]),
    ("ix_verification_task_created_at", "verification_task", ["created_at"]),
    ("ix_verification_task_answered_at", "verification_task", ["answered_at"]),
    ("ix_certificate_issued_at", "certificate", ["issued_at"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
