"""ledger money in exact whole pence; a month's payment and a month's run written once

Revision ID: 0006
Revises: 0004

- `payment_line.amount` becomes whole pence in a BIGINT (SQLite kept NUMERIC(14,2) as a binary
  float). Existing amounts were written from pence-exact Decimals, so round(amount × 100) is the
  exact original for every amount within the ledger's range; a line beyond the range (written by
  an absurd input before pcnkit refused them) cannot be carried across exactly and stops the
  migration with the lines named, rather than being silently changed.
- `payment_line.for_month`: the month whose scheduled amount a line settles (existing lines: their
  payment month).
- `payment_run.revision`: 0 for a month's first run, then 1, 2 ... (existing runs numbered in the
  order written); (year, month, revision) is unique.
- A month's scheduled payment (kind 'payment') to a payee for a stream is unique. A ledger that
  already holds a second payment of a month (two runs of it at once, before this fix) keeps the
  line, amount and reason unchanged, with its kind relabelled 'duplicate' so that it shows; the
  next run finds the month over-recorded and recovers it with an adjustment line.

The append-only triggers are lifted for the reshaping and put back.
"""

import sqlalchemy as sa
from alembic import op

from pcnkit.store.triggers import drop_append_only, make_append_only

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIMIT = "999999999999.99"
PRACTICE = sa.text("coalesce(practice_code, '')")
PAYMENT_KEY = ["year", "for_month", "payee_code", "pcn_code", PRACTICE, "stream"]


def _refuse_out_of_range(bind) -> None:
    bad = bind.execute(
        sa.text(
            f"SELECT id, run_id FROM payment_line WHERE abs(amount) > {LIMIT} "
            "OR amount <> amount ORDER BY id"
        )
    ).all()
    if bad:
        runs = sorted({r.run_id for r in bad if r.run_id is not None})
        raise RuntimeError(
            f"The payment ledger holds {len(bad)} line(s) with amounts beyond ±£{LIMIT} "
            f"(line ids {bad[0].id}–{bad[-1].id}, payment runs {runs or 'none'}), written from "
            "an impossible input before pcnkit refused such amounts; they cannot be stored "
            "exactly. Restore the workspace from a copy taken before those runs, then open it "
            "again."
        )


def upgrade() -> None:
    bind = op.get_bind()
    for table in ("payment_line", "payment_run"):
        drop_append_only(table)
    _refuse_out_of_range(bind)

    op.add_column("payment_line", sa.Column("amount_pence", sa.BigInteger(), nullable=True))
    op.add_column("payment_line", sa.Column("for_month", sa.Date(), nullable=True))
    op.execute(
        "UPDATE payment_line SET amount_pence = CAST(ROUND(amount * 100) AS BIGINT), "
        "for_month = payment_month"
    )
    with op.batch_alter_table("payment_line") as batch:
        batch.drop_column("amount")
        batch.alter_column(
            "amount_pence", new_column_name="amount", existing_type=sa.BigInteger(), nullable=False
        )
        batch.alter_column("for_month", existing_type=sa.Date(), nullable=False)

    op.add_column(
        "payment_run",
        sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    seen: dict[tuple, int] = {}
    for run_id, year, month in bind.execute(
        sa.text("SELECT id, year, month FROM payment_run ORDER BY id")
    ).all():
        n = seen[(year, month)] = seen.get((year, month), -1) + 1
        if n:
            bind.execute(
                sa.text("UPDATE payment_run SET revision = :n WHERE id = :id"),
                {"n": n, "id": run_id},
            )
    op.create_index(
        "uq_payment_run_month", "payment_run", ["year", "month", "revision"], unique=True
    )

    # A second payment of the same month (two runs at once before this fix) stays, with its
    # amount and reason, relabelled for what it is; the next run recovers it as an adjustment.
    op.execute(
        "UPDATE payment_line SET kind = 'duplicate' WHERE kind = 'payment' AND id NOT IN "
        "(SELECT min(id) FROM payment_line WHERE kind = 'payment' GROUP BY year, for_month, "
        "payee_code, pcn_code, coalesce(practice_code, ''), stream)"
    )
    where = "kind = 'payment'"
    op.create_index(
        "uq_payment_line_payment",
        "payment_line",
        PAYMENT_KEY,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )
    op.create_index(
        "uq_payment_line_run",
        "payment_line",
        ["run_id", "for_month", "payee_code", "pcn_code", PRACTICE, "stream", "kind"],
        unique=True,
    )
    for table in ("payment_line", "payment_run"):
        make_append_only(table)


def downgrade() -> None:
    for table in ("payment_line", "payment_run"):
        drop_append_only(table)
    op.drop_index("uq_payment_line_run", table_name="payment_line")
    op.drop_index("uq_payment_line_payment", table_name="payment_line")
    op.drop_index("uq_payment_run_month", table_name="payment_run")
    op.execute("UPDATE payment_line SET kind = 'payment' WHERE kind = 'duplicate'")
    op.execute("ALTER TABLE payment_run DROP COLUMN revision")  # SQLite 3.35+, PostgreSQL
    op.add_column("payment_line", sa.Column("amount_pounds", sa.Numeric(14, 2), nullable=True))
    op.execute("UPDATE payment_line SET amount_pounds = amount / 100.0")
    with op.batch_alter_table("payment_line") as batch:
        batch.drop_column("amount")
        batch.drop_column("for_month")
        batch.alter_column(
            "amount_pounds",
            new_column_name="amount",
            existing_type=sa.Numeric(14, 2),
            nullable=False,
        )
    for table in ("payment_line", "payment_run"):
        make_append_only(table)
