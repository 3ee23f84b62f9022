"""The org chart: a CSV or Parquet file of people and their attributes, loaded as table `org_chart`.

One row per person, keyed by `email` (compared lower-cased, as the API's emails are) or `user_id` (the
API's `user_…` id), plus any attribute columns (`department`, `team`, `manager_email`, `cost_center`,
`location`, …), named by the same rule as every other column. The whole file is checked before anything
is loaded: an unreadable file, no key column, a person twice or a row without a key is an `OrgChartError`
with one line that says which rows and what to do. With pseudonymization the key columns and every
column that holds an email or a person's name are replaced by the same keyed hashes as the API's
tables, so joins keep working.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc

from .naming import attribute_name
from .rows import Pseudonymize

TABLE = "org_chart"
KEYS = ("email", "user_id")
_ALIASES = {"email_address": "email", "mail": "email", "e_mail": "email"}
_NAME_COLUMNS = (
    "name",
    "full_name",
    "first_name",
    "last_name",
    "display_name",
    "employee_name",
    "manager_name",
    "person",
)
SHOWN = 3  # rows named in a message


class OrgChartError(ValueError):
    """The org chart cannot be loaded; the message says which rows and what to do."""


def personal_columns(names: list[str]) -> list[str]:
    """Columns of an org chart that identify a person: hashed when pseudonymizing."""
    return [n for n in names if n in KEYS or "email" in n or n in _NAME_COLUMNS or n.endswith("_user_id")]


def _read(path: Path) -> pa.Table:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            import pyarrow.csv as pacsv

            # an empty cell is NULL (a person without a seat has no user_id), not an empty string
            return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise OrgChartError(f"cannot read the org chart {path}: {reason} — check org_chart_path and the file") from None
    raise OrgChartError(f"the org chart {path} is neither .csv nor .parquet: export it as one of those")


def _rows(indices: list[int], csv: bool) -> str:
    """Row numbers as a person sees them (a CSV's first data row is line 2)."""
    shown = [str(i + (2 if csv else 1)) for i in indices[:SHOWN]]
    more = f" and {len(indices) - SHOWN} more" if len(indices) > SHOWN else ""
    return ", ".join(shown) + more


def read_org_chart(
    path: str | Path, pseudonymize: Pseudonymize | None = None, org_unit_attribute: str | None = None
) -> pa.Table:
    """The org chart as an Arrow table, checked (see the module docstring)."""
    path = Path(path)
    table = _read(path)
    csv = path.suffix.lower() == ".csv"
    names = [_ALIASES.get(attribute_name(n), attribute_name(n)) for n in table.column_names]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled or "" in names:
        raise OrgChartError(
            f"the org chart {path} has columns that clash once named as columns "
            f"({', '.join(doubled) or 'an empty header'}): rename them"
        )
    table = table.rename_columns(names)
    keys = [k for k in KEYS if k in names]
    if not keys:
        raise OrgChartError(
            f"the org chart {path} has no email or user_id column (columns: {', '.join(names)}): "
            "add one, the key that joins people to the API's users"
        )
    columns: dict[str, Any] = {n: table.column(n) for n in names}
    if "email" in columns:
        columns["email"] = pc.utf8_lower(pc.utf8_trim_whitespace(columns["email"].cast(pa.string())))
    for key in keys:
        columns[key] = columns[key].cast(pa.string())
    _check_keys(path, columns, keys, csv)
    if org_unit_attribute and attribute_name(org_unit_attribute) not in columns:
        raise OrgChartError(
            f"the org chart {path} has no column {org_unit_attribute!r} to group by (columns: "
            f"{', '.join(names)}): set org_unit_attribute to one of them"
        )
    if pseudonymize is not None:
        for name in personal_columns(names):
            values = columns[name].cast(pa.string()).to_pylist()
            columns[name] = pa.array([pseudonymize(name, v) for v in values], pa.string())
    return pa.table(columns)


def _check_keys(path: Path, columns: dict[str, Any], keys: list[str], csv: bool) -> None:
    values = [columns[k].to_pylist() for k in keys]
    keyless = [i for i, row in enumerate(zip(*values)) if all(v is None or v == "" for v in row)]
    if keyless:
        raise OrgChartError(
            f"the org chart {path}: row(s) {_rows(keyless, csv)} have no {' or '.join(keys)}: "
            "fill it in or remove the row(s)"
        )
    for key, column in zip(keys, values):
        seen: dict[str, list[int]] = {}
        for index, value in enumerate(column):
            if value:
                seen.setdefault(value, []).append(index)
        twice = {v: rows for v, rows in seen.items() if len(rows) > 1}
        if twice:
            value, rows = next(iter(twice.items()))
            others = f" ({len(twice) - 1} other {key}(s) too)" if len(twice) > 1 else ""
            raise OrgChartError(
                f"the org chart {path} lists the same person twice: {key} {value} on rows "
                f"{_rows(rows, csv)}{others} — keep one row per person"
            )


def org_chart_resource(load: Any) -> Any:
    """Table `org_chart`, replaced on every load (leavers disappear); `load()` gives the checked table."""

    def rows() -> Iterator[pa.Table]:
        yield load()

    return dlt.resource(rows, name=TABLE, write_disposition="replace")
