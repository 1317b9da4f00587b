"""Sharing a pot of money between recipients (CCGs, networks, practices) the way CCG papers do.

A pot is reduced by its top-slices first, then the rest (the *shared pot*) is shared in
proportion to a basis, and each share is rounded half-up to a unit (the penny, £1, £100...):

    share_i = round_half_up(shared_pot × B_i / ΣB, unit)

The bases are the registered list, the weighted (Carr-Hill) list, the normalised weighted list,
one equal share each, or a rate per head of registered list (no pot: the total is the sum).

Worked example (NW London GP at-scale plan, Nov 2018, Appendix 1): £2,448,000, top-slices 15%
(£367,200) and 5% (£122,400), the remaining £1,958,400 shared over eight CCGs by practice
normalised weighted list size, each share rounded half-up to £100; the rounded shares happen to
sum exactly to the pot.

Rounded shares need not sum to the pot. The difference is never hidden: `residual="report"` keeps
it as an explicit `residual` figure on the result; `residual="largest_remainder"` hands it out in
steps of one unit to the recipients whose shares were rounded down the most (or takes it from
those rounded up the most), ties broken by recipient code, so the shares sum exactly to the pot.
Which convention a commissioner used is not stated in our papers (NW London needed none).

All rounding goes through `money.to_unit`; every figure is a `Decimal`. A bad argument is a
`BadValue` naming it in the library's words ("pot", "top_slices": the shells word it for their
users, e.g. the CLI as --pot); a bad recipient is an `InputError` naming the recipient (and its
file/row when read from a CSV) and what to do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pcnkit.errors import BadValue, InputError
from pcnkit.funding.money import LEDGER_LIMIT, PENNY, decimal, figure, money_figure, to_unit
from pcnkit.registry.plausible import RECIPIENT_LIST

METHODS = ("registered", "weighted", "normalised_weighted", "equal", "per_head")
RESIDUAL_RULES = ("report", "largest_remainder")
MEASURES = ("registered", "weighted", "normalised_weighted")
CSV_COLUMNS = ("code", "name", *MEASURES)

# the columns of `Allocation.as_rows()`, in order (for csv.DictWriter)
ROW_FIELDS = ("kind", "code", "name", "basis", "basis_value", "exact_share", "share", "formula")


@dataclass(frozen=True)
class TopSlice:
    """An amount taken off the pot before it is shared: a percentage of the ORIGINAL pot
    (`percent=Decimal("15")` for 15%) or a fixed `amount`; exactly one of the two."""

    name: str
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Recipient:
    """One recipient and its list sizes; a measure the chosen method does not use may be None.

    `file` and `row` (set by `read_recipients_csv`) only locate the recipient in error messages.
    """

    code: str
    name: str
    registered: Decimal | None = None
    weighted: Decimal | None = None
    normalised_weighted: Decimal | None = None
    file: str | None = field(default=None, compare=False)
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SlicedAmount:
    """A top-slice as applied: its name, the amount taken (rounded to the penny) and how."""

    name: str
    amount: Decimal
    percent: Decimal | None
    formula: str


@dataclass(frozen=True)
class AllocationLine:
    code: str
    name: str
    basis_value: Decimal
    exact_share: Decimal  # unrounded
    share: Decimal  # rounded half-up to the unit, plus any balancing adjustment
    formula: str
    adjustment: Decimal = Decimal(0)  # largest-remainder balancing added to the rounded share


@dataclass(frozen=True)
class Allocation:
    """The result of `allocate`: every figure the paper would print, with its working.

    `residual` = shared_pot − total_shared: positive means money left unallocated by rounding
    (or, for per_head with a pot, unspent), negative means the rounded shares exceed the pot.
    """

    pot: Decimal
    top_slices: tuple[SlicedAmount, ...]
    shared_pot: Decimal
    method: str
    unit: Decimal
    lines: tuple[AllocationLine, ...]
    total_shared: Decimal
    residual: Decimal
    residual_rule: str  # "report" or "largest_remainder"
    residual_note: str  # the rule in words, with the figure
    basis_total: Decimal
    rate: Decimal | None = None
    as_of_note: str = ""

    @property
    def top_sliced(self) -> Decimal:
        return sum((s.amount for s in self.top_slices), Decimal(0))

    def line(self, code: str) -> AllocationLine:
        for line in self.lines:
            if line.code == code:
                return line
        raise KeyError(code)

    def as_rows(self) -> list[dict[str, str]]:
        """Rows for CSV export (fieldnames `ROW_FIELDS`): one per recipient ("share"), one per
        top-slice, then the residual and the pot total. Figures are plain decimal strings."""
        basis = self.method
        rows = [
            {
                "kind": "share",
                "code": line.code,
                "name": line.name,
                "basis": basis,
                "basis_value": str(line.basis_value),
                "exact_share": str(line.exact_share),
                "share": _plain(line.share),
                "formula": line.formula,
            }
            for line in self.lines
        ]
        rows += [
            {
                "kind": "top_slice",
                "code": "",
                "name": s.name,
                "basis": "percent of pot" if s.percent is not None else "fixed amount",
                "basis_value": "" if s.percent is None else str(s.percent),
                "exact_share": "",
                "share": _plain(s.amount),
                "formula": s.formula,
            }
            for s in self.top_slices
        ]
        rows.append(
            {
                "kind": "residual",
                "code": "",
                "name": "Residual (shared pot − total of shares)",
                "basis": self.residual_rule,
                "basis_value": "",
                "exact_share": "",
                "share": _plain(self.residual),
                "formula": self.residual_note,
            }
        )
        rows.append(
            {
                "kind": "total",
                "code": "",
                "name": "Pot",
                "basis": "",
                "basis_value": str(self.basis_total),
                "exact_share": "",
                "share": _plain(self.pot),
                "formula": (
                    f"{figure(self.total_shared)} shared + {figure(self.top_sliced)} top-sliced"
                    f" + {figure(self.residual)} residual = {figure(self.pot)}"
                    + (f"; {self.as_of_note}" if self.as_of_note else "")
                ),
            }
        )
        return rows


def allocate(
    pot: Decimal | None,
    recipients: Iterable[Recipient],
    method: str,
    *,
    top_slices: Sequence[TopSlice] = (),
    unit: Decimal = PENNY,
    residual: str = "report",
    rate: Decimal | None = None,
    as_of_note: str = "",
) -> Allocation:
    """Share `pot` (less its top-slices) between `recipients` by `method`, each share rounded
    half-up to `unit`.

    Methods:
      * "registered" — in proportion to the registered list.
      * "weighted" — in proportion to the weighted (Carr-Hill) list.
      * "normalised_weighted" — in proportion to the normalised weighted list: the weighted lists
        scaled by one common factor k = Σregistered / Σweighted so that their total equals the
        total registered list. If every recipient carries a published `normalised_weighted`
        figure (as the NW London paper prints) those figures are used as they stand; otherwise it
        is computed from `weighted` and `registered`.
        When the whole pot is shared, shares by normalised weighted list EQUAL shares by weighted
        list: pot × kW_i / Σ(kW) = pot × W_i / ΣW, because the common factor k cancels. (A national
        normalisation is also one common factor, so it cancels too.) Normalising only changes the
        basis figures shown — which is why it is still offered: papers report allocations
        "by practice normalised weighted list size", and the basis column should show those
        figures. It would matter only for a per-head rate on the normalised list.
      * "equal" — one equal share each.
      * "per_head" — `rate` × registered list each; no pot is needed (`pot=None`): the total is
        the sum of the rounded amounts. With a pot, the residual is what is left unspent.

    Top-slices are removed first, in order; a percent top-slice is that percentage of the
    ORIGINAL pot, rounded to the penny. `residual` is "report" (the difference between the rounded
    shares and the shared pot is left as `Allocation.residual`) or "largest_remainder" (the
    difference is distributed in steps of `unit`, ties broken by code, so the shares sum exactly
    to the shared pot).

    A bad argument is a `BadValue` naming the argument ("pot", "top_slices", ...); a bad
    recipient is an `InputError` naming the recipient (and its file and row).
    """
    _check_choices(method, residual)
    unit = _checked_unit(unit)
    rate = _checked_rate(rate, method)
    pot = _checked_pot(pot, method)
    recipients = _checked_recipients(recipients)
    slices = _apply_top_slices(pot, top_slices)
    shared_pot = _shared_pot(pot, slices)
    if method == "per_head":
        _check_per_head_residual(shared_pot, residual)
        lines, basis_total = _per_head(recipients, rate, unit)
        pot, shared_pot, note = _per_head_totals(lines, pot, slices, shared_pot, rate, unit)
    else:
        lines, basis_total = _shares(recipients, method, shared_pot, unit)
        lines, note = _settle_residual(lines, shared_pot, unit, residual)
    total = _total(lines)
    return Allocation(
        pot=pot,
        top_slices=slices,
        shared_pot=shared_pot,
        method=method,
        unit=unit,
        lines=tuple(lines),
        total_shared=total,
        residual=shared_pot - total,
        residual_rule=residual,
        residual_note=note,
        basis_total=basis_total,
        rate=rate,
        as_of_note=as_of_note,
    )


def read_recipients_csv(path: Path | str) -> list[Recipient]:
    """Read `code,name[,registered][,weighted][,normalised_weighted]` (header required; any subset
    of the three measure columns, in any order; an empty measure cell means "not given")."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            name, f"cannot be read ({exc})", "Check the path and save as UTF-8."
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise InputError(
            name, "the file is empty", f"Start with the header {','.join(CSV_COLUMNS)}."
        ) from exc
    except csv.Error as exc:
        raise InputError(
            name, f"cannot be read as CSV ({exc})", "Re-export it as CSV.", row=1
        ) from exc
    for required in ("code", "name"):
        if required not in header:
            raise InputError(
                name,
                f"the header has no '{required}' column (it reads: {','.join(header)})",
                f"The first row must be a header such as {','.join(CSV_COLUMNS)}.",
                row=1,
            )
    for column in header:
        if column not in CSV_COLUMNS:
            raise InputError(
                name,
                f"'{column}' is not a known column",
                f"Known columns: {', '.join(CSV_COLUMNS)}.",
                row=1,
                column=column,
            )
    if len(set(header)) != len(header):
        raise InputError(
            name, "a column appears twice in the header", "Remove the duplicate.", row=1
        )

    recipients: list[Recipient] = []
    seen: dict[str, int] = {}
    number = 1
    try:
        for cells in reader:
            number = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(
                    name,
                    f"has {len(cells)} fields but the header has {len(header)}",
                    "Give every row one value per header column (an empty cell for none).",
                    row=number,
                )
            values = {h: c.strip() for h, c in zip(header, cells, strict=True)}
            code = values["code"]
            if not code:
                raise InputError(
                    name,
                    "the code is empty",
                    "Give every recipient a code.",
                    row=number,
                    column="code",
                )
            if code in seen:
                raise InputError(
                    name,
                    f"recipient {code} appears twice (rows {seen[code]} and {number})",
                    "Each recipient may appear once: remove or merge the duplicate row.",
                    row=number,
                    column="code",
                )
            seen[code] = number
            measures: dict[str, Decimal | None] = {}
            for column in MEASURES:
                cell = values.get(column, "")
                if not cell:
                    measures[column] = None
                    continue
                try:
                    value = decimal(cell, column)
                except ValueError as exc:
                    raise InputError(
                        name,
                        f"'{cell}' is not a number",
                        "Write the list size as a number.",
                        row=number,
                        column=column,
                    ) from exc
                if value < 0:
                    raise InputError(
                        name,
                        f"{column} {cell} for {code} is negative",
                        "List sizes must be 0 or more.",
                        row=number,
                        column=column,
                    )
                problem = RECIPIENT_LIST.problem(value)
                if problem:  # 1e400 would otherwise reach the arithmetic
                    raise InputError(name, problem, "Correct the list size.", row=number,
                                     column=column)  # fmt: skip
                measures[column] = value
            recipients.append(Recipient(code, values["name"], **measures, file=name, row=number))
    except csv.Error as exc:
        raise InputError(
            name, f"cannot be read as CSV ({exc})", "Re-export it as CSV.", row=reader.line_num
        ) from exc
    if not recipients:
        raise InputError(name, "has a header but no recipients", "Add one row per recipient.")
    return recipients


# --- internals -------------------------------------------------------------------------------


def _number(value: object, what: str) -> Decimal:
    """An allocation figure (pot, rate, top-slice): finite and within the ledger's range (1e400
    passes Decimal but breaks the first rounding; 1e20 is no real pot). `what` is the
    argument's name, which the error carries."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise BadValue(what, f"{value} is not a number", "Give a finite amount.")
    else:
        try:
            value = decimal(value, what)
        except ValueError as exc:
            problem = str(exc).removeprefix(f"{what}: ")
            raise BadValue(what, problem, "Give the figure as a Decimal or a string.") from exc
    if abs(value) > LEDGER_LIMIT:
        raise BadValue(
            what,
            f"{value} is beyond the range pcnkit accepts (±{LEDGER_LIMIT:,})",
            "Check the figure.",
        )
    return value


def _plain(value: Decimal) -> str:
    """A money figure for CSV: shown to the penny when that is exact (no rounding here)."""
    return str(value.quantize(PENNY)) if value == value.quantize(PENNY) else str(value)


def _unit(unit: Decimal) -> str:
    return money_figure(unit)


def _where(r: Recipient) -> str:
    return r.file or "recipients"


def _check_codes(recipients: list[Recipient]) -> None:
    seen: set[str] = set()
    for r in recipients:
        if not str(r.code).strip():
            raise InputError(
                _where(r),
                f"recipient '{r.name}' has no code",
                "Give every recipient a code.",
                row=r.row,
                column="code",
            )
        if r.code in seen:
            raise InputError(
                _where(r),
                f"recipient {r.code} appears twice",
                "Each recipient may appear once: remove or merge the duplicate.",
                row=r.row,
                column="code",
            )
        seen.add(r.code)


def _measure(r: Recipient, column: str, method: str) -> Decimal:
    value = getattr(r, column)
    if value is None:
        raise InputError(
            _where(r),
            f"recipient {r.code} has no {column} list, which the '{method}' method needs",
            f"Give a {column} figure for every recipient.",
            row=r.row,
            column=column,
        )
    try:
        value = value if isinstance(value, Decimal) else decimal(value, column)
    except ValueError as exc:
        raise InputError(
            _where(r),
            f"recipient {r.code}: {exc}",
            "Give the list size as a number.",
            row=r.row,
            column=column,
        ) from exc
    if not value.is_finite() or value < 0:
        raise InputError(
            _where(r),
            f"recipient {r.code} has a negative or invalid {column} list ({value})",
            "List sizes must be 0 or more.",
            row=r.row,
            column=column,
        )
    return value


def _apply_top_slices(
    pot: Decimal | None, top_slices: Sequence[TopSlice]
) -> tuple[SlicedAmount, ...]:
    out = []
    for s in top_slices:
        if (s.percent is None) == (s.amount is None):
            raise BadValue(
                "top_slices",
                f"top-slice '{s.name}' must have either a percent or an amount (exactly one)",
                "Give e.g. 15% or a fixed £ amount.",
            )
        if s.percent is not None:
            percent = _number(s.percent, "top_slices")
            if percent < 0 or percent > 100:
                raise BadValue(
                    "top_slices",
                    f"top-slice '{s.name}' is {percent}%, outside 0–100%",
                    "Give a percentage of the pot between 0 and 100.",
                )
            if pot is None:
                raise BadValue(
                    "top_slices",
                    f"top-slice '{s.name}' is a percentage, but there is no pot to take it from",
                    "Give the pot, or give the top-slice as a fixed amount.",
                )
            amount = to_unit(pot * percent / 100, PENNY)
            formula = f"{figure(pot)} × {figure(percent)}%, rounded half-up to £0.01"
        else:
            raw = _number(s.amount, "top_slices")
            if raw < 0:
                raise BadValue(
                    "top_slices",
                    f"top-slice '{s.name}' is negative ({raw})",
                    "Give an amount of 0 or more.",
                )
            amount = to_unit(raw, PENNY)
            percent = None
            formula = f"fixed amount {money_figure(raw)}"
        out.append(SlicedAmount(s.name, amount, percent, formula))
    return tuple(out)


def _shares(
    recipients: list[Recipient], method: str, pot: Decimal, unit: Decimal
) -> tuple[list[AllocationLine], Decimal]:
    """Exact and rounded shares of `pot`; returns the lines and the basis total."""
    rounded = f"rounded half-up to {_unit(unit)}"
    if method == "equal":
        n = Decimal(len(recipients))
        lines = []
        for r in recipients:
            exact = pot / n
            lines.append(
                _line(r, Decimal(1), exact, unit, f"{figure(pot)} / {len(recipients)}, {rounded}")
            )
        return lines, n

    if method == "normalised_weighted":
        given = [r.normalised_weighted is not None for r in recipients]
        if any(given) and not all(given):
            missing = next(r for r, g in zip(recipients, given, strict=True) if not g)
            raise InputError(
                _where(missing),
                f"recipient {missing.code} has no normalised_weighted list but others do",
                "Give a normalised_weighted figure for every recipient, or for none (it is then "
                "computed from weighted and registered).",
                row=missing.row,
                column="normalised_weighted",
            )
        if not all(given):
            return _computed_normalised(recipients, pot, unit)

    column = method
    values = [_measure(r, column, method) for r in recipients]
    total = sum(values, Decimal(0))
    _check_total(total, column, method)
    lines = [
        _line(
            r, v, pot * v / total, unit, f"{figure(pot)} × {figure(v)} / {figure(total)}, {rounded}"
        )
        for r, v in zip(recipients, values, strict=True)
    ]
    return lines, total


def _computed_normalised(
    recipients: list[Recipient], pot: Decimal, unit: Decimal
) -> tuple[list[AllocationLine], Decimal]:
    """Normalise W_i by k = ΣR/ΣW; the share pot × W_i / ΣW is computed from the unscaled
    figures (k cancels, and this avoids an inexact intermediate division)."""
    method = "normalised_weighted"
    weighted = [_measure(r, "weighted", method) for r in recipients]
    registered = [_measure(r, "registered", method) for r in recipients]
    total_w = sum(weighted, Decimal(0))
    total_r = sum(registered, Decimal(0))
    _check_total(total_w, "weighted", method)
    _check_total(total_r, "registered", method)
    lines = []
    for r, w in zip(recipients, weighted, strict=True):
        exact = pot * w / total_w
        formula = (
            f"{figure(pot)} × {figure(w)} / {figure(total_w)} (weighted list; normalising by "
            f"Σregistered/Σweighted = {figure(total_r)}/{figure(total_w)} leaves the share "
            "unchanged), "
            f"rounded half-up to {_unit(unit)}"
        )
        normalised = w * total_r / total_w
        lines.append(_line(r, normalised, exact, unit, formula))
    return lines, total_r


def _line(
    r: Recipient, basis: Decimal, exact: Decimal, unit: Decimal, formula: str
) -> AllocationLine:
    """A recipient's line: its exact share and that share rounded half-up to `unit`."""
    return AllocationLine(r.code, r.name, basis, exact, to_unit(exact, unit), formula)


def _check_total(total: Decimal, column: str, method: str) -> None:
    if total == 0:
        raise InputError(
            "recipients",
            f"the {column} lists total zero, so there is nothing to share the pot in proportion to",
            f"Give non-zero {column} figures, or use another method (known: {', '.join(METHODS)}).",
            column=column,
        )


def _per_head(
    recipients: list[Recipient], rate: Decimal, unit: Decimal
) -> tuple[list[AllocationLine], Decimal]:
    values = [_measure(r, "registered", "per_head") for r in recipients]
    rounded = f"rounded half-up to {_unit(unit)}"
    lines = [
        _line(r, v, rate * v, unit, f"{figure(rate)} × {figure(v)}, {rounded}")
        for r, v in zip(recipients, values, strict=True)
    ]
    return lines, sum(values, Decimal(0))


def _largest_remainder(
    lines: list[AllocationLine], rest: Decimal, unit: Decimal, shared_pot: Decimal
) -> list[AllocationLine]:
    """Add (or take) `rest` in steps of `unit`: to the largest remainders exact − rounded (from
    the smallest, i.e. most rounded-up, when taking), ties broken by code."""
    steps = rest / unit
    if steps != steps.to_integral_value():
        raise BadValue(
            "unit",
            f"the shared pot {money_figure(shared_pot)} is not a whole number of "
            f"{_unit(unit)} units, so shares rounded to that unit cannot sum to it",
            "Use a smaller unit, or the residual rule 'report' to show the difference.",
        )
    count = int(abs(steps))
    step = unit if rest > 0 else -unit
    if rest > 0:
        order = sorted(
            range(len(lines)),
            key=lambda i: (-(lines[i].exact_share - lines[i].share), lines[i].code),
        )
    else:
        order = sorted(
            range(len(lines)), key=lambda i: (lines[i].exact_share - lines[i].share, lines[i].code)
        )
    adjust = [Decimal(0)] * len(lines)
    for k in range(count):
        adjust[order[k % len(order)]] += step
    out = []
    for line, extra in zip(lines, adjust, strict=True):
        if extra:
            sign = "+" if extra > 0 else "−"
            line = AllocationLine(
                line.code,
                line.name,
                line.basis_value,
                line.exact_share,
                line.share + extra,
                f"{line.formula}, {sign} {money_figure(abs(extra))} largest-remainder balancing",
                extra,
            )
        out.append(line)
    return out


# --- the steps of `allocate` -----------------------------------------------------------------


def _check_choices(method: str, residual: str) -> None:
    if method not in METHODS:
        raise BadValue(
            "method",
            f"'{method}' is not an allocation method",
            f"Known methods: {', '.join(METHODS)}.",
        )
    if residual not in RESIDUAL_RULES:
        raise BadValue(
            "residual",
            f"'{residual}' is not a residual rule",
            f"Known rules: {', '.join(RESIDUAL_RULES)}.",
        )


def _checked_unit(unit: object) -> Decimal:
    unit = _number(unit, "unit")
    if unit <= 0:
        raise BadValue(
            "unit", f"the rounding unit must be positive, not {unit}", "Use e.g. 0.01, 1 or 100."
        )
    if unit != to_unit(unit, PENNY):
        raise BadValue(
            "unit",
            f"the rounding unit {unit} is finer than a penny",
            "Use a whole number of pence, e.g. 0.01, 1 or 100.",
        )
    return unit


def _checked_rate(rate: object | None, method: str) -> Decimal | None:
    """The rate per head: required by per_head, refused by every other method."""
    if method != "per_head":
        if rate is not None:
            raise BadValue(
                "rate",
                f"a rate is only used by the per_head method, not by '{method}'",
                "Remove the rate or use the per_head method.",
            )
        return None
    if rate is None:
        raise BadValue(
            "rate", "the per_head method needs a rate per head", "Give e.g. a rate of 3."
        )
    rate = _number(rate, "rate")
    if rate < 0:
        raise BadValue("rate", f"the rate {rate} is negative", "Give a rate of 0 or more.")
    return rate


def _checked_pot(pot: object | None, method: str) -> Decimal | None:
    """The pot to share; only per_head may go without one."""
    if pot is None:
        if method != "per_head":
            raise BadValue(
                "pot",
                f"the '{method}' method shares a pot, and none was given",
                "Give the amount to share (only per_head works without a pot).",
            )
        return None
    pot = _number(pot, "pot")
    if pot < 0:
        raise BadValue("pot", f"the pot {pot} is negative", "Give the amount to share.")
    return pot


def _checked_recipients(recipients: Iterable[Recipient]) -> list[Recipient]:
    recipients = list(recipients)
    if not recipients:
        raise InputError("recipients", "there are no recipients", "Give at least one recipient.")
    _check_codes(recipients)
    return recipients


def _shared_pot(pot: Decimal | None, slices: Sequence[SlicedAmount]) -> Decimal | None:
    """The pot less its top-slices (None when there is no pot)."""
    if pot is None:
        return None
    sliced = _sliced(slices)
    if sliced > pot:
        raise BadValue(
            "top_slices",
            f"the top-slices total {money_figure(sliced)}, more than the pot of "
            f"{money_figure(pot)}",
            "Reduce the top-slices so they fit within the pot.",
        )
    return pot - sliced


def _sliced(slices: Sequence[SlicedAmount]) -> Decimal:
    return sum((s.amount for s in slices), Decimal(0))


def _total(lines: Iterable[AllocationLine]) -> Decimal:
    return sum((line.share for line in lines), Decimal(0))


def _check_per_head_residual(shared_pot: Decimal | None, residual: str) -> None:
    if shared_pot is not None and residual != "report":
        raise BadValue(
            "residual",
            "per_head pays rate × list, so there is no rounding difference to balance "
            "against the pot",
            "Use the residual rule 'report': the residual then shows what is left unspent.",
        )


def _per_head_totals(
    lines: list[AllocationLine],
    pot: Decimal | None,
    slices: tuple[SlicedAmount, ...],
    shared_pot: Decimal | None,
    rate: Decimal,
    unit: Decimal,
) -> tuple[Decimal, Decimal, str]:
    """The pot, shared pot and residual rule in words for per_head (rate × registered list
    each): without a pot, the total is the sum of the amounts; with one, the rest is unspent."""
    total = _total(lines)
    note = (
        f"per head: {figure(rate)} × registered list, each rounded half-up to {_unit(unit)}; "
        f"total {money_figure(total)}"
    )
    if shared_pot is None:
        return (
            total + _sliced(slices),
            total,
            note + "; no pot was given, so the total is the sum of the amounts",
        )
    unspent = f"; shared pot − total = {money_figure(shared_pot - total)} left unspent"
    return pot, shared_pot, note + unspent


def _settle_residual(
    lines: list[AllocationLine], shared_pot: Decimal, unit: Decimal, residual: str
) -> tuple[list[AllocationLine], str]:
    """Apply the residual rule to the rounded shares; returns the lines and the rule in words."""
    rest = shared_pot - _total(lines)
    if residual == "report":
        return lines, (
            f"reported: each share rounded half-up to {_unit(unit)} independently; "
            f"shared pot − total of shares = {money_figure(rest)}, not distributed"
        )
    if not rest:
        return lines, "largest remainder: the rounded shares already sum to the shared pot"
    lines = _largest_remainder(lines, rest, unit, shared_pot)
    if rest > 0:
        how = "added to the recipients with the largest rounding remainders"
    else:
        how = "taken from the recipients whose shares were rounded up the most"
    return lines, (
        f"largest remainder: shared pot − rounded shares was {money_figure(rest)}; it was {how}, "
        f"in steps of {_unit(unit)}, ties broken by code, so the shares sum to the pot"
    )
