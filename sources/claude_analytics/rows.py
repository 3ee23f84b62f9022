"""Row shaping: API rows → one Arrow table per request unit, with the day stamped and flat, typed columns.

Pure (no HTTP, no dlt). Columns are named by `naming.column_name` (or the catalogue's explicit name).

Values: `None` and a missing key both stay NULL; counts stay integers; money strings in cents become
DECIMAL in currency units, exactly (never through a float); a value whose type disagrees with its column
goes to a variant column `<name>__v_<type>` (dlt's convention) with a warning, so the column keeps its
type and its data. With a pseudonymizer, every column that identifies a person is replaced by its keyed
hash here, before anything else holds the row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pendulum
import pyarrow as pa

from .endpoints import Endpoint
from .naming import column_name, variant_name

log = logging.getLogger("claude_analytics.rows")

PERIOD_KEYS = ("starting_at", "starting_date", "ending_at", "ending_date")
DECIMAL_SCALE = 9
_QUANTUM = Decimal(1).scaleb(-DECIMAL_SCALE)

ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "double": pa.float64(),
    "text": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(38, DECIMAL_SCALE),
    "json": pa.string(),
}

_EXACT_TYPES = {"bigint": int, "text": str, "bool": bool}

Pseudonymize = Callable[[str, Any], Any]  # (column, value) → the value, or its keyed hash


def declared_columns(endpoint: Endpoint) -> dict[str, str]:
    """column → dlt type for `date` and every field the catalogue documents, in table order."""
    cols = {"date": "date"}
    for f in endpoint.fields:
        cols[f.name] = f.data_type
    return cols


def money_columns(endpoint: Endpoint) -> frozenset[str]:
    return frozenset(f.name for f in endpoint.fields if f.money_in_cents)


def infer_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "text"
    return "json"


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> dt.datetime:
    """An RFC 3339 instant (any offset, `Z`, fractions) as an aware UTC datetime; ValueError otherwise."""
    try:
        stamp = pendulum.parse(text)
    except Exception:  # pendulum raises its own ParserError for every malformed text
        raise ValueError(text) from None
    if not isinstance(stamp, dt.datetime):
        raise ValueError(text)
    utc = stamp.in_timezone("UTC")
    return dt.datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=dt.timezone.utc
    )


def to_money(value: Any, in_cents: bool) -> Decimal:
    """An exact decimal, cents → currency units, at the column's scale; rounding (beyond 9 places) is logged."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(value)
    if in_cents:
        amount = amount.scaleb(-2)
    rounded = amount.quantize(_QUANTUM)
    if rounded != amount:
        log.warning("a money value %s has more than %d decimal places; rounded to %s", amount, DECIMAL_SCALE, rounded)
    return rounded


def _convert(value: Any, data_type: str, money: bool) -> Any:
    """`value` as a Python value of `data_type`; raises (TypeError, ValueError) when it does not fit."""
    if data_type == "bigint":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            return int(value)
        return value
    if data_type == "double":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        return float(value)
    if data_type == "text":
        if not isinstance(value, str):
            raise TypeError
        return value
    if data_type == "bool":
        if not isinstance(value, bool):
            raise TypeError
        return value
    if data_type == "decimal":
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise TypeError
        try:
            return to_money(value, money)
        except InvalidOperation:
            raise ValueError from None
    if data_type == "date":
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise TypeError
        return dt.date.fromisoformat(value[:10])
    if data_type == "timestamp":
        if not isinstance(value, str):
            raise TypeError
        return parse_timestamp(value)
    if data_type == "json":
        return json.dumps(value, sort_keys=True, default=str)
    raise TypeError(data_type)


class ShapeError(ValueError):
    """A row cannot be placed: its day is missing or malformed."""


class _PathNode:
    """One level of the JSON paths a shaper has seen: leaf key → column name, key → nested level."""

    __slots__ = ("path", "leaves", "children")

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.leaves: dict[str, str] = {}
        self.children: dict[str, _PathNode] = {}


class TableShaper:
    """Shapes an endpoint's rows into Arrow tables; remembers column types across calls.

    `known_types` are the types the destination already has (from the dlt schema), so a field that
    changes type between runs is caught as well as within one. Not thread-safe: one per endpoint, used
    under a lock (`fetch.UnitFetcher`).
    """

    def __init__(
        self, endpoint: Endpoint, known_types: dict[str, str] | None = None, pseudonymize: Pseudonymize | None = None
    ) -> None:
        self.endpoint = endpoint
        self.types: dict[str, str] = dict(declared_columns(endpoint))
        for name, data_type in (known_types or {}).items():
            self.types.setdefault(name, data_type)
        self.money = money_columns(endpoint)
        self.keys = endpoint.primary_key
        self.required = () if endpoint.nullable_key else self.keys  # rows without these cannot be merged
        self.personal = frozenset(f.name for f in endpoint.fields if f.personal) if pseudonymize else frozenset()
        self._pseudonymize = pseudonymize
        self._renamed = endpoint.renamed
        self._paths = _PathNode(())  # JSON paths seen so far → column names (shape's hot path)
        self._warned: set[tuple[str, str]] = set()

    def _column(self, path: tuple[str, ...]) -> str:
        return self._renamed.get(path) or column_name(path)

    def _gather(self, obj: dict, node: _PathNode, index: int, columns: dict[str, list]) -> None:
        """Append row `index`'s leaves to `columns` (column name → values of rows 0..index); pads gaps with None.

        Column-wise, without a dict per row (this is the per-row cost of every load); when two paths of
        one row map to the same name, the last one wins.
        """
        leaves = node.leaves
        for key, value in obj.items():
            if isinstance(value, dict):
                child = node.children.get(key)
                if child is None:
                    child = node.children[key] = _PathNode((*node.path, key))
                self._gather(value, child, index, columns)
                continue
            name = leaves.get(key)
            if name is None:
                name = leaves[key] = self._column((*node.path, key))
            values = columns.get(name)
            if values is None:
                columns[name] = values = [None] * index
            filled = len(values)
            if filled == index:
                values.append(value)
            elif filled < index:
                values.extend([None] * (index - filled))
                values.append(value)
            else:
                values[index] = value

    # -- shaping ----------------------------------------------------------------------------------

    def _warn_once(self, what: str, column: str, message: str, *args: Any) -> None:
        if (what, column) not in self._warned:
            self._warned.add((what, column))
            log.warning(message, *args)

    def _row_day(self, row: dict, day: dt.date | None) -> dt.date:
        if day is not None:
            return day
        for key in ("starting_at", "starting_date"):
            value = row.get(key)
            if isinstance(value, str):
                try:
                    return dt.date.fromisoformat(value[:10])
                except ValueError:
                    break
        raise ShapeError(
            f"{self.endpoint.path}: a row has no valid starting_at or starting_date (keys: {', '.join(sorted(row))})"
        )

    def shape(self, rows: list[dict], day: dt.date | None = None, *, where: str = "") -> pa.Table:
        """An Arrow table of one page of `rows`; `day` None means the rows name their day (windows, reports).

        Rows without a key the table cannot merge without are dropped with a warning.
        """
        where = where or f"{self.endpoint.path} {day}"
        columns: dict[str, list] = {}
        dates: list[dt.date] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ShapeError(f"{where}: a row is a JSON {type(row).__name__}, not an object")
            dates.append(self._row_day(row, day))
            self._gather(row, self._paths, index, columns)
        count = len(dates)
        for key in (*PERIOD_KEYS, "date"):
            columns.pop(key, None)
        columns["date"] = dates
        for values in columns.values():
            if len(values) < count:
                values.extend([None] * (count - len(values)))
        columns, count = self._drop_keyless(columns, count, where)
        for name in self.personal & columns.keys():
            columns[name] = [
                self._pseudonymize(name, v) if v is not None else None  # type: ignore[misc]
                for v in columns[name]
            ]
        return self._to_arrow(columns, count, where)

    def _drop_keyless(self, columns: dict[str, list], count: int, where: str) -> tuple[dict[str, list], int]:
        keys = [columns.get(k) for k in self.required]
        if any(values is None for values in keys):
            missing = set(range(count))
        else:
            missing = {i for values in keys for i, v in enumerate(values or ()) if v is None}
        if not missing:
            return columns, count
        log.warning(
            "%s: skipped %d row(s) without %s: they cannot be merged",
            where,
            len(missing),
            " / ".join(self.required[1:]) or "a day",
        )
        kept = [i for i in range(count) if i not in missing]
        return {name: [values[i] for i in kept] for name, values in columns.items()}, len(kept)

    def finish(self, table: pa.Table, first: dt.date, last: dt.date, *, where: str = "") -> pa.Table:
        """The unit's table: rows within [first, last], one per key (the last one wins, with a warning)."""
        dates = table.column("date").to_pylist()
        inside = [i for i, d in enumerate(dates) if first <= d <= last]
        if len(inside) < len(dates):
            log.warning("%s: dropped %d row(s) dated outside %s..%s", where, len(dates) - len(inside), first, last)
        keys = list(
            zip(*(table.column(k).to_pylist() if k in table.column_names else [None] * len(dates) for k in self.keys))
        )
        last_of = {keys[i]: i for i in inside}
        if len(last_of) == len(dates):
            return table
        if len(last_of) < len(inside):
            log.warning(
                "%s: %d duplicate row(s) for the same %s; kept the last of each",
                where,
                len(inside) - len(last_of),
                " / ".join(self.keys),
            )
        return table.take(sorted(last_of.values()))

    def _to_arrow(self, gathered: dict[str, list], count: int, where: str) -> pa.Table:
        names: dict[str, None] = dict.fromkeys(self.types)
        for name in gathered:
            if name not in names:
                names[name] = None
        columns: dict[str, list] = {}
        variants: dict[str, list] = {}
        for name in names:
            values = gathered.get(name)
            if values is None:
                values = [None] * count
            data_type = self.types.get(name)
            if data_type is None:
                first = next((v for v in values if v is not None), None)
                if first is None:
                    continue  # an unknown field that is NULL everywhere: it appears when a value does
                data_type = self.types[name] = infer_type(first)
                if data_type == "bigint" and any(isinstance(v, float) and not isinstance(v, bool) for v in values):
                    data_type = self.types[name] = "double"
            columns[name] = self._typed(name, data_type, values, variants, where)
        columns.update(variants)
        fields, arrays = [], []
        for name, values in columns.items():
            arrow_type = ARROW_TYPES[self.types[name]]
            fields.append(pa.field(name, arrow_type, nullable=name != "date" and name not in self.required))
            arrays.append(pa.array(values, type=arrow_type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def _typed(self, name: str, data_type: str, values: list, variants: dict[str, list], where: str) -> list:
        money = name in self.money
        exact = _EXACT_TYPES.get(data_type)
        if exact is not None and all(v is None or type(v) is exact for v in values):
            return values  # the common case: already the right type
        out: list = []
        for index, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            try:
                out.append(_convert(value, data_type, money))
            except (TypeError, ValueError):
                drift = infer_type(value)
                variant = variant_name(name, drift)
                self.types[variant] = drift
                column = variants.setdefault(variant, [None] * len(values))
                column[index] = _convert(value, drift, False)
                self._warn_once(
                    "drift",
                    name,
                    "%s: column %s is %s but a value arrived as %s; it is kept in column %s and %s keeps its type",
                    where,
                    name,
                    data_type,
                    drift,
                    variant,
                    name,
                )
                out.append(None)
        return out
