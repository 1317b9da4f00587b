"""actual payments from NHS Payments to General Practice; evidence for inferred PCN roles

Revision ID: 0008
Revises: 0007

- `actual_payment`: what was paid through each practice for its PCN in a financial year, one row
  per practice and PCN column of the file, in whole pence, with the source file and row.
- `pcn_role.evidence`: why pcnkit believes a role nobody recorded (a nominated payee inferred
  from the practice that received the network's payments); empty for recorded roles.

Workspaces that loaded payments files before this revision have no actual payments: load the
files again after deleting them from the workspace, or run `pcnkit registry load` on a fresh one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actual_payment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("source_file.id"), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("year_start", sa.Date(), nullable=False),
        sa.Column("practice_code", sa.String(length=20), nullable=False),
        sa.Column("pcn_code", sa.String(length=20), nullable=True),
        sa.Column("heading", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("source_id", "practice_code", "heading"),
    )
    op.create_index("ix_actual_payment_year", "actual_payment", ["year_start", "pcn_code"])
    with op.batch_alter_table("pcn_role") as batch:
        batch.add_column(sa.Column("evidence", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pcn_role") as batch:
        batch.drop_column("evidence")
    op.drop_index("ix_actual_payment_year", table_name="actual_payment")
    op.drop_table("actual_payment")
