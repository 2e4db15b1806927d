"""the store of finished months' statistics (portal.stats.store)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import portal.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stats_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('figures_json', sa.Text(), nullable=False),
        sa.Column('open_tasks', sa.Integer(), nullable=False),
        sa.Column('computed_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_month')),
        sa.UniqueConstraint('scope', 'month', name=op.f('uq_stats_month_scope')),
    )


def downgrade() -> None:
    op.drop_table('stats_month')
