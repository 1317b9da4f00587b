"""assurance observations: published figures per organisation and period

Revision ID: 0007
Revises: 0006

One table, `observation`, holding what the assurance importers read (online consultation,
telephony, CQC ratings, workforce, QOF achievement, appointments): organisation code and kind,
measure, period (both ends inside it), a value or a label, and the source file and row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("source_file.id"), nullable=False),
        sa.Column("dataset", sa.String(length=40), nullable=False),
        sa.Column("org_code", sa.String(length=20), nullable=False),
        sa.Column("org_kind", sa.String(length=20), nullable=False),
        sa.Column("measure", sa.String(length=80), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(20, 6), nullable=True),
        sa.Column("label", sa.String(length=60), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("sheet", sa.String(length=40), nullable=True),
        sa.UniqueConstraint("source_id", "dataset", "org_code", "measure", "start", "end"),
    )
    op.create_index("ix_observation_lookup", "observation", ["dataset", "measure", "start"])
    op.create_index("ix_observation_org", "observation", ["org_code"])


def downgrade() -> None:
    op.drop_index("ix_observation_org", table_name="observation")
    op.drop_index("ix_observation_lookup", table_name="observation")
    op.drop_table("observation")
