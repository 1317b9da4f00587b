"""Tables of the application database. Every fact carries its source file and is effective-dated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pcnkit.funding.money import whole_pence


class Base(DeclarativeBase):
    pass


class Pence(TypeDecorator):
    """Money held exactly on every database: a Decimal in Python, whole pence in a BIGINT column
    (SQLite ignores NUMERIC(14,2) and would keep a binary float). Writing an amount that is not a
    whole number of pence or is beyond `money.LEDGER_LIMIT` is refused, so nothing inexact or
    absurd reaches the table; SUM() of the column stays exact and reads back as pounds."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else whole_pence(value)

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(int(value)).scaleb(-2)


class SourceFile(Base):
    """One loaded file: what it was, when its data is as at, and a hash so it loads only once."""

    __tablename__ = "source_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    file_type: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    extract_date: Mapped[dt.date] = mapped_column(Date)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rows: Mapped[int] = mapped_column(Integer)
    publisher: Mapped[str] = mapped_column(String(200), default="")


class Organisation(Base):
    """Any organisation: its kind is data (practice, pcn, sub_icb, ...), never a class."""

    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    subtype: Mapped[str | None] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    open_date: Mapped[dt.date | None] = mapped_column(Date)
    close_date: Mapped[dt.date | None] = mapped_column(Date)
    # The earliest date any source shows the organisation (stands in for an unknown open date).
    first_seen: Mapped[dt.date | None] = mapped_column(Date)
    # ODS status at the newest observation: A active, C closed, D dormant, P proposed.
    status: Mapped[str | None] = mapped_column(String(1))
    status_as_of: Mapped[dt.date | None] = mapped_column(Date)
    # The newest source whose details (name, postcode, dates) the row reflects.
    details_observed_at: Mapped[dt.date | None] = mapped_column(Date)
    details_source_id: Mapped[int | None] = mapped_column(ForeignKey("source_file.id"))
    coordinates_source_id: Mapped[int | None] = mapped_column(ForeignKey("source_file.id"))

    details_source: Mapped[SourceFile | None] = relationship(foreign_keys=[details_source_id])
    coordinates_source: Mapped[SourceFile | None] = relationship(
        foreign_keys=[coordinates_source_id]
    )


class OrganisationName(Base):
    """A name as a source gave it on its extract date: PCNs are renamed (U92874 was North West
    PCN in 2019 and Central PCN by 2022), so names are answered as at a date too."""

    __tablename__ = "organisation_name"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(300))
    observed_at: Mapped[dt.date] = mapped_column(Date)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))

    __table_args__ = (Index("ix_organisation_name_lookup", "org_id", "observed_at"),)


FIRST = -1  # a mixin column's sort_order: before the columns of the class that uses it


class _Link:
    """A child's place under a parent in one channel over [start, end]: the columns a source's
    statement (`MembershipFact`) and the resolved timeline (`Membership`) share, first in both
    (`FIRST` keeps them ahead of each table's own columns, as the migrations created them)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=FIRST)
    child_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), sort_order=FIRST)
    parent_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), sort_order=FIRST)
    channel: Mapped[str] = mapped_column(String(60), sort_order=FIRST)
    start: Mapped[dt.date | None] = mapped_column(Date, sort_order=FIRST)
    end: Mapped[dt.date | None] = mapped_column(Date, sort_order=FIRST)


class MembershipFact(_Link, Base):
    """What one source said about a child's parent: a dated interval or a snapshot at a date."""

    __tablename__ = "membership_fact"
    dated: Mapped[bool] = mapped_column(Boolean)
    observed_at: Mapped[dt.date] = mapped_column(Date)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    source_row: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_membership_fact_child", "child_id", "channel"),)


class Membership(_Link, Base):
    """The resolved timeline (derived from the facts by registry.timeline; rebuilt on load)."""

    __tablename__ = "membership"
    basis: Mapped[str] = mapped_column(Text, default="")

    child: Mapped[Organisation] = relationship(foreign_keys="Membership.child_id")
    parent: Mapped[Organisation] = relationship(foreign_keys="Membership.parent_id")

    __table_args__ = (
        Index("ix_membership_child", "child_id", "channel"),
        Index("ix_membership_parent", "parent_id"),
    )


# The measures a ListSize can hold (the registered list in whole patients, then the weighted
# and adjusted populations the funding streams use): every reader and writer takes them from here.
LIST_MEASURES = ("registered", "weighted", "adjusted")


class ListSize(Base):
    """A practice's list on a date from one source: one of LIST_MEASURES."""

    __tablename__ = "list_size"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    measure: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    source_row: Mapped[int | None] = mapped_column(Integer)

    source: Mapped[SourceFile] = relationship()

    __table_args__ = (
        UniqueConstraint("practice_id", "measure", "as_of", "source_id"),
        Index("ix_list_size_lookup", "practice_id", "measure", "as_of"),
    )


class Observation(Base):
    """One published figure about one organisation over one period (an assurance importer's
    `ObservationRecord`): a practice's online consultation submissions in a month, its GP FTE in
    September, its CQC rating. Keyed by the organisation's code, not a registry row, because
    NHS England's files cover every practice in England while a workspace's registry may hold
    one area: England and peer comparisons need the rest. A publication that re-states earlier
    months keeps its own figures (each row names its source); `assurance.values` picks the newest
    publication by default."""

    __tablename__ = "observation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    dataset: Mapped[str] = mapped_column(String(40))
    org_code: Mapped[str] = mapped_column(String(20))
    org_kind: Mapped[str] = mapped_column(String(20))
    measure: Mapped[str] = mapped_column(String(80))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    label: Mapped[str | None] = mapped_column(String(60))
    source_row: Mapped[int | None] = mapped_column(Integer)
    sheet: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        UniqueConstraint("source_id", "dataset", "org_code", "measure", "start", "end"),
        Index("ix_observation_lookup", "dataset", "measure", "start"),
        Index("ix_observation_org", "org_code"),
    )


class PcnRole(Base):
    """A PCN's clinical director(s) and nominated payee, effective-dated."""

    __tablename__ = "pcn_role"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pcn_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    holder: Mapped[str] = mapped_column(String(300))
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    # why pcnkit believes it when no one recorded it (a payee inferred from the payments files)
    evidence: Mapped[str | None] = mapped_column(Text)


class ActualPayment(Base):
    """What NHS England actually paid through one practice for its PCN in one financial year,
    in one column of "NHS Payments to General Practice" (`PCN Support`, `PCN Workforce` ...): a
    payment fact, not a list size. Keyed by codes as the file gives them (like `Observation`),
    because the files cover every practice in England while a registry may hold one area.
    Whole pence, like the ledger."""

    __tablename__ = "actual_payment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    source_row: Mapped[int | None] = mapped_column(Integer)
    year_start: Mapped[dt.date] = mapped_column(Date)
    practice_code: Mapped[str] = mapped_column(String(20))
    pcn_code: Mapped[str | None] = mapped_column(String(20))
    heading: Mapped[str] = mapped_column(String(80))  # the file's column
    amount: Mapped[Decimal] = mapped_column(Pence)

    __table_args__ = (
        UniqueConstraint("source_id", "practice_code", "heading"),
        Index("ix_actual_payment_year", "year_start", "pcn_code"),
    )


class PracticeMerger(Base):
    """A practice whose list another practice took on, from a date: the successor's funding
    counts the absorbed list while the reference-date list predates the merger."""

    __tablename__ = "practice_merger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))


class RegistryException(Base):
    """A recorded exception to a configuration rule, e.g. a rural waiver of the 30,000 minimum."""

    __tablename__ = "registry_exception"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    rule: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))


class PaymentRun(Base):
    """One run of the monthly payment calculation. Written only when it pays something. A
    month's first run is revision 0 and every later run of it (restated inputs, `--restate`)
    the next number: (year, month, revision) is unique, so two runs that both believed they
    were first cannot both be written (migration 0006)."""

    __tablename__ = "payment_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[str] = mapped_column(String(7))
    month: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rules: Mapped[str] = mapped_column(String(100))
    inputs: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("year", "month", "revision", name="uq_payment_run_month"),)


class PaymentLine(Base):
    """Append-only: the database refuses updates and deletes (see migration 0002); a mistake is
    put right by a new correction line with its reason.

    `amount` is stored as whole pence (`Pence`; a raw SQL reader sees 2473850 for £24,738.50).
    `for_month` is the payment month whose scheduled amount the line settles: a month's own
    payment, or an adjustment or restatement of an earlier month, so what has been recorded for
    any one month is known exactly. A month's scheduled payment to a payee for a stream is
    written once: a unique index on that natural key (migration 0006) refuses a second."""

    __tablename__ = "payment_line"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("payment_run.id"))
    year: Mapped[str] = mapped_column(String(7))
    payment_month: Mapped[dt.date] = mapped_column(Date)
    payee_code: Mapped[str] = mapped_column(String(20))
    pcn_code: Mapped[str] = mapped_column(String(20))
    practice_code: Mapped[str | None] = mapped_column(String(20))
    stream: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Pence)
    for_month: Mapped[dt.date] = mapped_column(Date)
    rule_id: Mapped[str] = mapped_column(String(100))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_payment_line_key", "year", "payee_code", "stream"),
        Index(
            "uq_payment_line_payment",
            "year",
            "for_month",
            "payee_code",
            "pcn_code",
            func.coalesce(text("practice_code"), ""),
            "stream",
            unique=True,
            sqlite_where=text("kind = 'payment'"),
            postgresql_where=text("kind = 'payment'"),
        ),
        Index(
            "uq_payment_line_run",
            "run_id",
            "for_month",
            "payee_code",
            "pcn_code",
            func.coalesce(text("practice_code"), ""),
            "stream",
            "kind",
            unique=True,
        ),
    )


class User(Base):
    """A person who signs in to the web application: a role and the organisation it covers."""

    __tablename__ = "app_user"
    # AUTOINCREMENT on SQLite: an id is never handed to a second user (migration 0005).
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    scope_code: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A random key carried in the signed session cookie; replaced on sign-out and on any
    # change of role, scope or password, so every cookie issued before is refused. Random,
    # so a cookie can never name a later user who happens to get the same id.
    session_key: Mapped[str] = mapped_column(String(64), unique=True)


class AuditEvent(Base):
    """Append-only (migration 0004): who saw or downloaded which patient-level list, and when."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
