"""The store migrates on both engines and transactions are all-or-nothing."""

from sqlalchemy import inspect, select

from pcnkit.store.models import Organisation


def test_migrations_create_the_registry_tables(workspace):
    tables = set(inspect(workspace.engine).get_table_names())
    assert {
        "organisation",
        "membership",
        "membership_fact",
        "list_size",
        "pcn_role",
        "registry_exception",
        "source_file",
        "alembic_version",
    } <= tables


def test_a_failed_transaction_leaves_nothing_behind(workspace):
    try:
        with workspace.transaction() as session:
            session.add(Organisation(code="X1", kind="practice", name="x"))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with workspace.sessions() as session:
        assert session.scalars(select(Organisation)).all() == []
