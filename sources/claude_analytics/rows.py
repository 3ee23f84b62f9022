"""Row shaping: API rows → one Arrow table per request unit, with the day stamped and flat, typed columns.

Pure (no HTTP, no dlt). The naming rule makes every column a readable snake_case name of at most 63
characters, so dlt's naming never alters it and every destination gets identical columns:

- path segments are joined with `_`;
- a segment `core_metrics` is dropped, and any other `<x>_metrics` becomes `<x>`;
- `email_address` becomes `email`;
- a name still longer than 63 characters (an unknown future field) is cut to 54 characters plus `_` and
  8 hex digits of its hash — done here, once, so it is the same on every destination.

Values: `None` and a missing key both stay NULL; counts stay integers; money strings in cents become
DECIMAL in currency units; a value whose type disagrees with its column goes to a variant column
`<name>__v_<type>` (dlt's convention) with a warning, so the column keeps its type and its data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

import pyarrow as pa

from .endpoints import Endpoint

log = logging.getLogger("claude_analytics.rows")

MAX_NAME = 63
PERIOD_KEYS = ("starting_at", "starting_date", "ending_at", "ending_date")

ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "double": pa.float64(),
    "text": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(38, 9),
    "json": pa.string(),
}


_EXACT_TYPES = {"bigint": int, "text": str, "bool": bool}


def _segment(segment: str) -> str:
    if segment == "core_metrics":
        return ""
    if segment.endswith("_metrics"):
        return segment[: -len("_metrics")]
    if segment == "email_address":
        return "email"
    return segment


def shorten(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    return f"{name[:54]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def column_name(path: Iterable[str]) -> str:
    """The column name for a JSON path (see the module docstring)."""
    parts = [_segment(seg) for seg in path]
    return shorten("_".join(p for p in parts if p).lower())


def variant_name(name: str, data_type: str) -> str:
    return shorten(f"{name}__v_{data_type}")


def declared_columns(endpoint: Endpoint) -> dict[str, str]:
    """column → dlt type for `date` and every field the catalogue documents, in table order."""
    cols = {"date": "date"}
    for f in endpoint.fields:
        cols[column_name(f.path)] = f.data_type
    return cols


def money_columns(endpoint: Endpoint) -> frozenset[str]:
    return frozenset(column_name(f.path) for f in endpoint.fields if f.money_in_cents)


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
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ValueError from None
        if not amount.is_finite():
            raise ValueError
        return amount / 100 if money else amount
    if data_type == "date":
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise TypeError
        return dt.date.fromisoformat(value[:10])
    if data_type == "timestamp":
        if not isinstance(value, str):
            raise TypeError
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)
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
    changes type between runs is caught as well as within one.
    """

    def __init__(self, endpoint: Endpoint, known_types: dict[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self.types: dict[str, str] = dict(declared_columns(endpoint))
        for name, data_type in (known_types or {}).items():
            self.types.setdefault(name, data_type)
        self.money = money_columns(endpoint)
        self.keys = endpoint.primary_key
        self._paths = _PathNode(())  # JSON paths seen so far → column names (shape's hot path)
        self._warned: set[tuple[str, str]] = set()

    def _gather(self, obj: dict, node: "_PathNode", index: int, columns: dict[str, list]) -> None:
        """Append row `index`'s leaves to `columns` (column name → values of rows 0..index); pads gaps with None.

        The column-wise twin of `flatten`, without a dict per row: same names, and as there, when two paths
        of one row map to the same name the last one wins.
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
                name = leaves[key] = column_name((*node.path, key))
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
        raise ShapeError(f"{self.endpoint.path}: a summary row has no valid starting_at or starting_date "
                         f"(keys: {', '.join(sorted(row))})")

    def shape(self, rows: list[dict], day: dt.date | None = None, *, where: str = "") -> pa.Table:
        """An Arrow table of one page of `rows`; for window endpoints `day` is None (rows name their day).

        Rows without an entity key are dropped with a warning: they could never be merged.
        """
        where = where or f"{self.endpoint.path} {day}"
        # Column-wise: one list per column, no dict per row (this is the per-row cost of every load).
        columns: dict[str, list] = {}
        dates: list[dt.date] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ShapeError(f"{where}: a row is a JSON {type(row).__name__}, not an object")
            dates.append(self._row_day(row, day))
            self._gather(row, self._paths, index, columns)
        count = len(dates)
        for key in PERIOD_KEYS:
            columns.pop(key, None)
        columns.pop("date", None)
        columns["date"] = dates
        for values in columns.values():
            if len(values) < count:
                values.extend([None] * (count - len(values)))
        keys = [columns.get(k) for k in self.keys]
        if any(values is None for values in keys):
            missing = set(range(count))
        else:
            missing = {i for values in keys for i, v in enumerate(values) if v is None}
        if missing:
            log.warning("%s: skipped %d row(s) without %s: they cannot be merged", where, len(missing),
                        " / ".join(self.keys[1:]) or "a day")
            kept = [i for i in range(count) if i not in missing]
            columns = {name: [values[i] for i in kept] for name, values in columns.items()}
            count = len(kept)
        return self._to_arrow(columns, count, where)

    def finish(self, table: pa.Table, first: dt.date, last: dt.date, *, where: str = "") -> pa.Table:
        """The unit's table: rows within [first, last], one per key (the last one wins, with a warning)."""
        dates = table.column("date").to_pylist()
        inside = [i for i, d in enumerate(dates) if first <= d <= last]
        if len(inside) < len(dates):
            log.warning("%s: dropped %d row(s) dated outside %s..%s", where, len(dates) - len(inside), first, last)
        keys = list(zip(*(table.column(k).to_pylist() for k in self.keys)))
        last_of = {keys[i]: i for i in inside}
        if len(last_of) == len(dates):
            return table
        if len(last_of) < len(inside):
            log.warning("%s: %d duplicate row(s) for the same %s; kept the last of each", where,
                        len(inside) - len(last_of), " / ".join(self.keys))
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
        for name, values in variants.items():
            columns[name] = values
        fields = []
        arrays = []
        for name, values in columns.items():
            data_type = self.types[name]
            fields.append(pa.field(name, ARROW_TYPES[data_type], nullable=name not in self.keys))
            arrays.append(pa.array(values, type=ARROW_TYPES[data_type]))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def _typed(self, name: str, data_type: str, values: list, variants: dict[str, list], where: str) -> list:
        money = name in self.money
        exact = _EXACT_TYPES.get(data_type)
        if exact is not None and all(v is None or type(v) is exact for v in values):
            return values  # the common case: already the right type
        out = []
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
                self._warn_once("drift", name, "%s: column %s is %s but a value arrived as %s; it is kept in "
                                "column %s and %s keeps its type", where, name, data_type, drift, variant, name)
                out.append(None)
        return out
