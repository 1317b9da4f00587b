"""What each JSON endpoint returns, as pydantic models, so /api/openapi.json documents it.

The views build each page's data once, as a per-page data class (`views/page.Page`); the page
renders it and the API returns it through `jsonout.answer` (money and other decimals as
strings, dates as ISO 8601, drawings left out). These models describe that JSON: the routes
declare them as their response models, and the tests check real answers against them and
each page class's fields against its model. Tables whose columns are listed elsewhere (ledger,
entitlement and reconciliation rows; the pack's tables; a list's rows) are typed as rows of
named values.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DecimalStr = Annotated[str, Field(description="A decimal number as a string (never a float).")]
Row = dict[str, Any]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- shared ---------------------------------------------------------------------------------


class OrgRef(Model):
    """An organisation as pages link to it, named as at the request's date."""

    code: str
    name: str
    kind: str
    kind_label: str
    kind_suffix: str | None = Field(description="The kind shown after the name, if not in it.")
    can_open: bool = Field(description="Whether the signed-in user may open its page.")


class User(Model):
    username: str
    role: str
    scope: str


class SignedIn(User):
    """The session cookie is set on the response."""


class Refused(Model):
    detail: str


class Home(Model):
    user: User
    scope: OrgRef | None
    as_of: dt.date


class Search(Model):
    query: str
    results: list[OrgRef]
    as_of: dt.date


# --- organisation page ----------------------------------------------------------------------


class ListFigure(Model):
    value: DecimalStr
    as_of: dt.date
    source: str
    source_row: int | None
    measure: str
    average: bool = Field(description="A payments file's quarter average, not a count.")


class Patients(Model):
    """Registered patients of a group of practices: whole patients and the sources."""

    value: DecimalStr
    practices: int
    missing: list[str]
    dated: str
    source: str
    mixed: bool


class Member(Model):
    code: str
    name: str
    kind_label: str
    registered: ListFigure | None
    patients: Patients | None
    can_open: bool


class Spell(Model):
    """A membership: from and to (None: not known / to date), and the evidence."""

    code: str
    name: str
    kind_label: str
    start: dt.date | None
    end: dt.date | None
    member_on_date: bool
    basis: str
    can_open: bool


class HeldList(Model):
    measure: str
    as_of: str = Field(description="The list's date in words.")
    value: DecimalStr
    kind: str = Field(description="count, quarter average or weighted figure")
    source: str


class Role(Model):
    role: str
    holder: str


class Finding(Model):
    check: str
    check_name: str
    outcome: str
    outcome_label: str
    code: str
    name: str
    pcn: str | None
    pcn_name: str | None
    text: str
    figure: str | None
    figure_date: str | None
    can_open: bool


class OutcomeCount(Model):
    outcome: str
    label: str
    count: int
    help: str


class FindingGroup(Model):
    pcn: str | None
    name: str
    findings: list[Finding]
    can_open: bool


class FindingGroups(Model):
    counts: list[OutcomeCount]
    groups: list[FindingGroup]


class MapPoint(Model):
    code: str
    name: str
    latitude: float | None
    longitude: float | None
    pcn: str


class Map(Model):
    """The practices' coordinates (the page's drawing is not part of the JSON)."""

    source: str
    points: list[MapPoint]


class OrgPage(Model):
    """An organisation as at `as_of`."""

    org: OrgRef
    as_of: dt.date
    postcode: str | None
    open_date: dt.date | None
    began: dt.date | None
    close_date: dt.date | None
    empty_state: str | None
    up: list[OrgRef]
    members: list[Member]
    member_history: list[Spell]
    memberships: list[Spell]
    lists: dict[str, ListFigure | None]
    list_history: list[HeldList]
    total: Patients | None
    missing_named: list[str]
    roles: list[Role]
    pcns: list[OrgRef]
    findings: list[Finding]
    finding_groups: FindingGroups
    status_key: dict[str, str]
    map: Map
    patients_visible: bool


# --- funding page ---------------------------------------------------------------------------


class Total(Model):
    """A total: its amount (None: it cannot be calculated), whether it is complete and what
    is missing."""

    amount: DecimalStr | None
    complete: bool
    gaps: list[str]


class Unconfirmed(Model):
    stream: str
    name: str
    status: str
    words: str


class RulesRef(Model):
    version: int
    title: str


class Links(Model):
    page: str
    api: str
    xlsx: str
    csv: dict[str, str]
    actuals: str | None = Field(
        description="Entitled against actually paid (when payments files are loaded)."
    )


class FundingCommon(Model):
    org: OrgRef
    kind: str
    year: str
    years: list[str]
    rules: RulesRef
    list_reference_date: dt.date
    as_of: dt.date
    year_note: str | None
    links: Links
    total: Total
    unconfirmed: list[Unconfirmed]


class Stream(Model):
    stream: str
    name: str
    amount: DecimalStr | None
    total: Total
    rule_id: str
    rule_version: int | str
    confirmed: bool
    status: str
    status_words: str
    basis: str
    rate: DecimalStr | None
    rate_period: str | None
    rate_text: str | None
    rule: str
    source: str | None
    note: str | None
    lines: list[Row]


class ScheduleMonth(Model):
    payment_month: dt.date
    amount: DecimalStr
    service_months: list[dt.date]
    covering: str
    due_by_as_of: bool


class Ledger(Model):
    lines: list[Row]
    total: DecimalStr
    as_of: dt.date


class Reconciliation(Model):
    rows: list[Row]
    as_of: dt.date
    entitlement: DecimalStr | None
    complete: bool
    due: DecimalStr
    paid: DecimalStr
    outstanding: DecimalStr


class PcnLink(OrgRef):
    funding: str
    when: str | None


class Arrs(Model):
    roster: str
    roster_loaded: bool
    staff_recorded: bool = Field(
        description="Whether the roster has posts for this PCN (without: headroom = budget)."
    )
    staff: str | None = Field(None, description="The posts recorded, in words.")
    error: str | None
    budget: Row | None
    claims: list[Row]
    planned: list[Row]
    total: DecimalStr | None
    headroom: DecimalStr | None
    planned_adds: DecimalStr | None
    budget_capped: bool
    confirmed: bool | None
    notes: list[str]
    payments: list[Row]


class Obligation(Model):
    """What a PCN must provide for the money: minutes a week (None: cannot be calculated)."""

    name: str
    months: str
    minutes: int | None
    hours: str | None
    reason: str
    population: DecimalStr | None
    inputs: str
    formula: str
    worked: str
    rounding: str
    rounding_source: str
    rounding_confirmed: bool
    hours_rule: str
    status: str
    confirmed: bool
    source: str
    unconfirmed: list[str]


class OutcomeTarget(Model):
    short: str
    text: str
    met: bool | None  # None: the indicator has no value


class OutcomePayment(Model):
    """One line of an outcome scheme: a practice's aspiration payment or the PCN's collective
    payment (amount None: it cannot be calculated, and `reason` says why)."""

    payment: str
    payment_name: str
    practice_code: str | None
    practice_name: str
    payee_code: str
    payee_name: str
    amount: DecimalStr | None
    reason: str
    formula: str
    targets: list[OutcomeTarget]
    inputs: str
    source: str
    status: str
    status_words: str
    confirmed: bool
    note: str


class OutcomeUnconfirmed(Model):
    figure: str
    status: str
    status_words: str


class OutcomeScheme(Model):
    """A local outcome scheme (funding/outcome-schemes/*.yaml) applied to the PCN at the date;
    `error` names the file and key when the scheme cannot be read."""

    file: str
    name: str
    source: str | None
    error: str | None
    total: Total | None
    lines: list[OutcomePayment]
    unconfirmed: list[OutcomeUnconfirmed]
    budget: str | None
    notes: list[str]


class FundingPage(FundingCommon):
    """A PCN's or a practice's money for a contract year."""

    kind: Literal["pcn", "practice"]
    streams: list[Stream]
    schedule: list[ScheduleMonth]
    ledger: Ledger
    reconciliation: Reconciliation
    pcn: PcnLink | None
    arrs: Arrs | None
    obligations: list[Obligation] | None = None  # a PCN's service obligations
    outcomes: list[OutcomeScheme] = []  # a PCN's local outcome schemes


class AreaStream(Model):
    stream: str
    name: str
    confirmed: bool
    status: str
    status_words: str
    rate_text: str | None


class AreaPcn(Model):
    code: str
    name: str
    place: str
    can_open: bool
    funding: str
    by_stream: dict[str, Total]
    total: Total


class Place(Model):
    code: str
    name: str
    pcns: list[AreaPcn]
    by_stream: dict[str, Total]
    total: Total


class FundingArea(FundingCommon):
    """An area's PCNs' totals by stream, grouped by place, and the area's totals."""

    kind: Literal["area"]
    streams: list[AreaStream]
    places: list[Place]
    pcns: list[AreaPcn]
    by_stream: dict[str, Total]
    arrs: Row = Field(
        description="Every PCN's ARRS budget, claimable and headroom (roster, pcns, budget, "
        "claimable, headroom, no_staff, left_out, rule)."
    )


class ActualsRow(Model):
    column: str = Field(description="The column of NHS Payments to General Practice.")
    entitled: DecimalStr | None
    paid: DecimalStr | None = Field(
        description="None when it was paid outside GP practices: the file cannot show it."
    )
    difference: DecimalStr | None
    percent: str | None = Field(description="Paid as a percentage of the entitlement.")
    category: str
    category_label: str
    explanation: str
    confirmed: bool


class ActualsArrs(Model):
    budget: DecimalStr | None
    paid: DecimalStr | None = Field(description="ARRS reimbursement actually paid.")
    unclaimed: DecimalStr | None = Field(description="Budget less paid, never below 0.")
    over: DecimalStr | None = Field(description="Paid above the budget.")
    used: str | None
    why: str | None = Field(description="Why unclaimed cannot be calculated, if it cannot.")
    detail: str | None = Field(None, description="The same, with this PCN's figures.")
    partial: DecimalStr | None = Field(
        None,
        description="ARRS reimbursement that went through the PCN's practices when its other "
        "network payments went outside them: perhaps only part of what it was paid.",
    )
    confirmed: bool


class ActualsPcn(Model):
    code: str
    name: str
    funding: str
    entitled: DecimalStr | None
    paid: DecimalStr | None
    difference: DecimalStr | None
    agree: int
    compared: int
    columns: list[ActualsRow]
    arrs: ActualsArrs


class ActualsPage(Model):
    """Entitled against what NHS England actually paid, PCN by PCN, with ARRS unclaimed."""

    org: OrgRef
    year: str
    years: list[str]
    source: str
    pcns: list[ActualsPcn]
    totals: dict[str, DecimalStr] = Field(description="Over the PCNs compared.")
    summary: list[Row]
    categories: list[dict[str, str]]
    arrs_total: Row
    note: str | None


# --- population -----------------------------------------------------------------------------


class PackList(Model):
    id: str
    name: str
    people: int | str | None
    href: str | None
    csv: str | None


class Pack(Model):
    """The population pack (aggregates only, every count through disclosure control)."""

    org: OrgRef
    available: Literal[True]
    as_of: dt.date
    date_note: str | None
    data_as_of: dt.date
    stratified: bool
    not_stratified: str | None
    commands: dict[str, str]
    synthetic: bool
    label: str
    population_as_of: dt.date
    practices: list[str]
    practices_without_patients: list[str]
    patients: int | str
    tables: list[Row]
    definitions: Row | None
    patients_visible: bool
    lists: list[PackList]
    lists_note: str | None


class NoPack(Model):
    """No population to show, and the commands that load one."""

    org: OrgRef
    available: Literal[False]
    as_of: dt.date
    heading: str
    problem: str
    commands: dict[str, str]
    data_as_of: dt.date | None = None
    date_note: str | None = None


class Reason(Model):
    id: str
    label: str


class Column(Model):
    key: str
    heading: str
    numeric: bool
    href: str
    sorted: str | None


class ListPage(Model):
    """One page of a patient-level list (direct care; every view audited)."""

    org: OrgRef
    as_of: dt.date
    data_as_of: dt.date
    date_note: str | None
    no_practices: str | None
    list: Row
    synthetic: bool
    practices: list[str]
    practice_names: dict[str, str]
    reasons: list[Reason]
    view: dict[str, str | None]
    whole_list: int
    total: int
    page: int
    pages: int
    page_size: int
    first_row: int
    previous: str | None
    next: str | None
    csv: str
    clear: str | None
    action: str
    columns: list[Column]
    rows: list[Row]


# --- assurance ------------------------------------------------------------------------------


class AssuranceFigure(Model):
    """One value of an indicator for one organisation and period, with where it came from."""

    org: str
    start: dt.date
    end: dt.date
    period: str = Field(description="The period in words, e.g. 'March 2026'.")
    value: float | None
    value_text: str | None
    numerator: float | None
    denominator: float | None
    units: int | None = Field(description="Members whose figures were counted.")
    members: int | None = Field(description="Member practices held at the period.")
    basis: str = Field(description="'sum' of members' figures or NHS England's 'published'.")
    reason: str | None
    provenance: list[str]


class Icon(Model):
    code: str
    label: str
    description: str
    symbol: str
    colour: str


class AssuranceTile(Model):
    """An indicator's latest value for the organisation, its SPC icons, target, England and
    peer rank; `reason` says why there is no value (never 0, never blank)."""

    indicator: Row
    latest: AssuranceFigure | None
    value: float | None
    value_text: str | None
    period: str | None
    period_phrase: str | None = Field(description="The period after a value: in March 2026.")
    reason: str | None
    trend: str
    variation: Icon | None
    assurance: Icon | None
    target: Row | None
    england: AssuranceFigure | None
    versus_england: Row | None
    peer: Row | None
    coverage: Row | None
    attention: list[str]
    url: str


class AssurancePage(Model):
    org: OrgRef
    as_of: dt.date
    attention: list[Row]
    topics: list[Row] = Field(description="{topic, tiles: [AssuranceTile]} in topic order.")
    with_value: int
    key: dict[str, list[Row]]
    newer: Row | None = Field(description="{date, url}: newer figures are held than the date.")


class IndicatorPage(Model):
    org: OrgRef
    as_of: dt.date
    tile: AssuranceTile
    definition: Row
    chart: Row
    series: list[Row]
    members: list[Row] = Field(description="A PCN's practices, or an area's PCNs, worst first.")
    practices: list[Row] = Field(description="An area's practices, worst first (else empty).")
    peers: list[Row]
    peers_hidden: int = Field(description="Peers outside your scope: ranked, not shown.")
    funnel: Row | None
    provenance: list[str]
    downloads: dict[str, str]


# Responses that are files rather than JSON.
CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}}
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX = {
    200: {
        "content": {XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}}},
        "description": "Excel workbook",
    }
}
