"""digitized copies of records (数字化副本): the stored file, its pages and its masked text

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import portal.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'digitized_copy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('stored_name', sa.String(length=40), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('original_name', sa.String(length=200), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('page_count', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('text_source', sa.String(length=10), nullable=False),
        sa.Column('text_status', sa.String(length=10), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('attached_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("text_source IN ('', 'pdf_text', 'ocr')", name=op.f('ck_digitized_copy_text_source')),
        sa.CheckConstraint("text_status IN ('pending', 'done', 'failed')", name=op.f('ck_digitized_copy_text_status')),
        sa.ForeignKeyConstraint(['attached_by_id'], ['user_account.id'], name=op.f('fk_digitized_copy_attached_by_id_user_account')),
        sa.ForeignKeyConstraint(['job_id'], ['admin_job.id'], name=op.f('fk_digitized_copy_job_id_admin_job')),
        sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_digitized_copy_record_id_record'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digitized_copy')),
    )
    op.create_index(op.f('ix_digitized_copy_record_id'), 'digitized_copy', ['record_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_digitized_copy_record_id'), table_name='digitized_copy')
    op.drop_table('digitized_copy')
