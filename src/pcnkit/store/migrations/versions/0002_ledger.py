"""payment ledger (append-only)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from pcnkit.store.triggers import drop_append_only, make_append_only

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("payment_line", "payment_run")


def upgrade() -> None:
    op.create_table(
        "payment_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=7), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rules", sa.String(length=100), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "payment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.String(length=7), nullable=False),
        sa.Column("payment_month", sa.Date(), nullable=False),
        sa.Column("payee_code", sa.String(length=20), nullable=False),
        sa.Column("pcn_code", sa.String(length=20), nullable=False),
        sa.Column("practice_code", sa.String(length=20), nullable=True),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["payment_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_line_key", "payment_line", ["year", "payee_code", "stream"])
    for table in APPEND_ONLY:
        make_append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        drop_append_only(table)
    op.drop_index("ix_payment_line_key", table_name="payment_line")
    op.drop_table("payment_line")
    op.drop_table("payment_run")
