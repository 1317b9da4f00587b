"""sessions name a random per-user key, and user ids are never reused (issue 10, item 1)

Revision ID: 0005
Revises: 0004

A session cookie carried the user's id and a counter starting at 0; SQLite hands a deleted
highest id to the next user, so a removed user's cookie signed in as someone else. Each user
now has a random `session_key` (carried in the cookie, replaced on sign-out and on any change
of role, scope or password), and `app_user` is AUTOINCREMENT on SQLite so ids are never
reused. Existing users get fresh keys: everyone signs in again once.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fill_keys() -> None:
    bind = op.get_bind()
    users = sa.table("app_user", sa.column("id", sa.Integer), sa.column("session_key", sa.String))
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_key=secrets.token_urlsafe(32))
        )


def upgrade() -> None:
    op.add_column("app_user", sa.Column("session_key", sa.String(length=64), nullable=True))
    _fill_keys()
    # SQLite: rebuild the table to make it AUTOINCREMENT; PostgreSQL's serial ids never repeat.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "app_user",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch:
        batch.alter_column("session_key", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_app_user_session_key", ["session_key"])
        batch.drop_column("session_epoch")


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_constraint("uq_app_user_session_key", type_="unique")
        batch.drop_column("session_key")
