"""open appraisal (开放鉴定): batches, their items and each stage's opinions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

import portal.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _user(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ['user_account.id'], name=op.f(f'fk_{table}_{column}_user_account'))


def upgrade() -> None:
    op.create_table(
        'appraisal_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('archive_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('year_from', sa.SmallInteger(), nullable=True),
        sa.Column('year_to', sa.SmallInteger(), nullable=True),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('first_reviewer_id', sa.Integer(), nullable=True),
        sa.Column('second_reviewer_id', sa.Integer(), nullable=True),
        sa.Column('final_reviewer_id', sa.Integer(), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('first_review', 'second_review', 'decision', 'decided', 'cancelled')",
                           name=op.f('ck_appraisal_batch_status')),
        sa.ForeignKeyConstraint(['archive_id'], ['archive.id'], name=op.f('fk_appraisal_batch_archive_id_archive')),
        _user('created_by_id', 'appraisal_batch'),
        _user('first_reviewer_id', 'appraisal_batch'),
        _user('second_reviewer_id', 'appraisal_batch'),
        _user('final_reviewer_id', 'appraisal_batch'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_batch')),
        sa.UniqueConstraint('archive_id', 'number', name='uq_appraisal_batch_number'),
    )
    op.create_index(op.f('ix_appraisal_batch_archive_id'), 'appraisal_batch', ['archive_id'], unique=False)
    op.create_table(
        'appraisal_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('access_before', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['appraisal_batch.id'],
                                name=op.f('fk_appraisal_item_batch_id_appraisal_batch')),
        sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_appraisal_item_record_id_record')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_item')),
        sa.UniqueConstraint('batch_id', 'record_id', name='uq_appraisal_item_record'),
    )
    op.create_index(op.f('ix_appraisal_item_batch_id'), 'appraisal_item', ['batch_id'], unique=False)
    op.create_index(op.f('ix_appraisal_item_record_id'), 'appraisal_item', ['record_id'], unique=False)
    op.create_table(
        'appraisal_opinion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=10), nullable=False),
        sa.Column('decision', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stage IN ('first', 'second', 'final')", name=op.f('ck_appraisal_opinion_stage')),
        sa.CheckConstraint("decision IN ('open', 'postponed', 'keep')", name=op.f('ck_appraisal_opinion_decision')),
        sa.CheckConstraint("decision != 'postponed' OR review_on IS NOT NULL",
                           name=op.f('ck_appraisal_opinion_postponed_review_on')),
        sa.ForeignKeyConstraint(['item_id'], ['appraisal_item.id'],
                                name=op.f('fk_appraisal_opinion_item_id_appraisal_item')),
        _user('actor_id', 'appraisal_opinion'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_opinion')),
        sa.UniqueConstraint('item_id', 'stage', name='uq_appraisal_opinion_stage'),
    )
    op.create_index('ix_appraisal_opinion_stage_decision', 'appraisal_opinion', ['stage', 'decision'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_appraisal_opinion_stage_decision', table_name='appraisal_opinion')
    op.drop_table('appraisal_opinion')
    op.drop_index(op.f('ix_appraisal_item_record_id'), table_name='appraisal_item')
    op.drop_index(op.f('ix_appraisal_item_batch_id'), table_name='appraisal_item')
    op.drop_table('appraisal_item')
    op.drop_index(op.f('ix_appraisal_batch_archive_id'), table_name='appraisal_batch')
    op.drop_table('appraisal_batch')
