"""the version of the personal-information notice each citizen consented to at registration

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import portal.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, nullable: accounts registered before the version was recorded have none
    # (rebuilding user_account on SQLite would trip over every table that references it).
    op.add_column('user_account', sa.Column('privacy_notice_version', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('privacy_notice_version')
