"""identity assurance (unverified / verified, how, by whom, when; frozen accounts), server-side
sessions, one-time account links, and the applicant's own ID card as a proof kind

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import portal.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_KINDS_BEFORE = ('relationship_proof', 'death_proof', 'power_of_attorney', 'principal_id', 'practice_certificate',
                 'firm_letter', 'official_letter', 'supplement', 'certified_copy')
_KINDS = ('applicant_id',) + _KINDS_BEFORE


def _kinds(kinds) -> str:
    return "kind IN (%s)" % ", ".join(repr(k) for k in kinds)


def upgrade() -> None:
    # Everyone registered so far asserted their identity themselves: unverified until checked.
    # Plain ADD COLUMNs (a column's own CHECK is allowed): rebuilding user_account on SQLite would
    # trip over every table that references it. Who verified is in the audit log.
    op.add_column('user_account', sa.Column(
        'identity_level', sa.String(length=10),
        sa.CheckConstraint("identity_level IN ('unverified', 'verified')", name=op.f('ck_user_account_identity_level')),
        server_default='unverified', nullable=False))
    op.add_column('user_account', sa.Column('verified_at', portal.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('verified_method', sa.String(length=20), nullable=True))
    op.add_column('user_account', sa.Column('frozen_at', portal.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('frozen_reason', sa.String(length=200), server_default='', nullable=False))
    op.add_column('user_account', sa.Column('email_confirmed_at', portal.db.UTCDateTime(timezone=True), nullable=True))
    # Accounts that exist already have been using their address: treat it as confirmed.
    op.execute(sa.text("UPDATE user_account SET email_confirmed_at = created_at"))
    # Anyone may register with any ID number; only one account may hold it *verified*. (An
    # impostor's earlier registration must not keep the real person out: the verified one wins.)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_user_account_id_number_hash'), type_='unique')
        batch_op.create_index(batch_op.f('ix_user_account_id_number_hash'), ['id_number_hash'], unique=False)
    op.create_index('uq_user_account_verified_id', 'user_account', ['id_number_hash'], unique=True,
                    sqlite_where=sa.text("identity_level = 'verified'"),
                    postgresql_where=sa.text("identity_level = 'verified'"))

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('authenticated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_user_session_sid_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('account_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('confirm_email', 'reset_password')", name=op.f('ck_account_token_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_token_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash'))
    )
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_token_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('request_file', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_request_file_kind'), type_='check')
        batch_op.create_check_constraint('kind', _kinds(_KINDS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM request_file WHERE kind = 'applicant_id'"))
    with op.batch_alter_table('request_file', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_request_file_kind'), type_='check')
        batch_op.create_check_constraint('kind', _kinds(_KINDS_BEFORE))
    op.drop_table('account_token')
    op.drop_table('user_session')
    op.drop_index('uq_user_account_verified_id', table_name='user_account')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_id_number_hash'))
        batch_op.drop_constraint(op.f('ck_user_account_identity_level'), type_='check')
        for column in ('email_confirmed_at', 'frozen_reason', 'frozen_at', 'verified_method', 'verified_at',
                       'identity_level'):
            batch_op.drop_column(column)
        batch_op.create_unique_constraint(op.f('uq_user_account_id_number_hash'), ['id_number_hash'])
