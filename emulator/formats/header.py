"""Reading a CSV header: which column holds which field, and what is wrong with it.

The first line of every CSV upload is the header (spec §2.1). Simple orders, offline
conversions and calls use the field names as headers; orders and contacts may rename them
with ``columns_mapping`` (spec §4.2, §4.4). Header problems concern the whole file, so they
are reported on line 1 and stop the reading: no row can be understood without them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from emulator.domain import RowError, Severity
from emulator.formats.fields import Field, KindSpec
from emulator.formats.limits import ID_CHARS, ID_PATTERN_HELP, MAX_ID_LENGTH
from emulator.formats.options import FormatOptions, UnknownColumns

_ATTRIBUTE_NAME = re.compile(ID_CHARS)


def attribute_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a custom attribute (spec §4.7: 1..255 of ``^[\\w-:]+$``), or None."""
    if _ATTRIBUTE_NAME.fullmatch(name) and len(name) <= MAX_ID_LENGTH:
        return None
    return f"attribute name {name[:80]!r} must be 1 to {MAX_ID_LENGTH} of {ID_PATTERN_HELP}"


@dataclass(frozen=True)
class Column:
    """One column of the file: its position, its header as written and what it holds."""

    index: int
    label: str
    field: Field | None = None
    attribute: str | None = None  # custom attribute name (orders and contacts)


@dataclass
class Layout:
    """The resolved header. ``fields`` maps a field name to its column."""

    spec: KindSpec
    columns: list[Column]
    fields: dict[str, Column] = field(default_factory=dict)
    attributes: list[Column] = field(default_factory=list)
    ignored: list[Column] = field(default_factory=list)


def _header_error(
    message: str, column: str | None = None, code: str = "invalid_header"
) -> RowError:
    return RowError(1, column, message, code)


def _warning(message: str, column: str | None, code: str) -> RowError:
    return RowError(1, column, message, code, Severity.WARNING)


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    by_case = [k for k in known if k.casefold() == name.strip().casefold()]
    guess = by_case or close
    return f" (did you mean {guess[0]!r}?)" if guess else ""


def _delimiter_problem(cells: list[str], options: FormatOptions) -> RowError | None:
    """A header read as one column that holds the other delimiter: a wrong ``delimiter_type``."""
    if len(cells) != 1:
        return None
    other = ";" if options.delimiter == "," else ","
    if other not in cells[0]:
        return None
    sent = "COMMA" if options.delimiter == "," else "SEMICOLON"
    wanted = "SEMICOLON" if other == ";" else "COMMA"
    return _header_error(
        f"the header is a single column {cells[0][:80]!r}: wrong delimiter? The file seems "
        f"to use {other!r}; it was read with delimiter_type={sent}, send {wanted}",
        code="wrong_delimiter",
    )


def resolve(
    spec: KindSpec, cells: list[str], options: FormatOptions
) -> tuple[Layout, list[RowError]]:
    """Match header ``cells`` to the fields of ``spec``.

    Returns the layout and the issues on line 1; any issue of severity error means the
    file cannot be read.
    """
    layout = Layout(spec, [])
    problem = _delimiter_problem(cells, options)
    if problem:
        return layout, [problem]
    issues: list[RowError] = []
    mapping = dict(options.columns_mapping or {})
    if mapping and not spec.mapping:
        issues.append(
            _header_error(
                f"columns_mapping does not apply to {spec.kind}: its headers are the field names",
                code="invalid_parameter",
            )
        )
        return layout, issues
    by_column = {f.column: f for f in spec.fields}
    by_name = {f.name: f for f in spec.fields}
    header_of = {f.name: mapping.get(f.name, f.column) for f in spec.fields}
    custom = {header: name for name, header in mapping.items() if name not in by_name}
    if custom and not spec.attributes:
        issues.append(
            _header_error(f"columns_mapping names unknown fields {sorted(custom.values())}")
        )
    for name in custom.values():
        problem = attribute_name_problem(name)
        if problem:
            issues.append(_header_error(f"columns_mapping: {problem}"))
    field_at = {header: by_name[name] for name, header in header_of.items()}

    if not any(label in field_at or label in custom for label in cells):
        expected = ",".join(header_of[f.name] for f in spec.fields[:4])
        issues.append(
            _header_error(
                f"line 1 is not a header: none of its cells names a column of {spec.kind} "
                f"(such as {expected}). The first line must be the header",
                code="missing_header",
            )
        )
        return layout, issues
    seen: set[str] = set()
    for index, label in enumerate(cells):
        if not label:
            issues.append(_header_error(f"column {index + 1} of the header has no name"))
        elif label in seen:
            issues.append(_header_error(f"column {label!r} appears twice in the header", label))
        seen.add(label)
        column = Column(index, label)
        if label in field_at and field_at[label].name not in layout.fields:
            column = Column(index, label, field=field_at[label])
            layout.fields[field_at[label].name] = column
        elif label in custom and spec.attributes:
            column = Column(index, label, attribute=custom[label])
            layout.attributes.append(column)
        elif label:
            column = _unknown(spec, column, options, by_column, issues)
            if column.attribute:
                layout.attributes.append(column)
            else:
                layout.ignored.append(column)
        layout.columns.append(column)

    for f in spec.fields:
        if f.required and f.name not in layout.fields:
            where = header_of[f.name]
            via = f" (columns_mapping names it {where!r})" if f.name in mapping else ""
            issues.append(
                _header_error(f"required column {where!r} is missing{via}", where, "missing_column")
            )
    if spec.identifiers and not any(name in layout.fields for name in spec.identifiers):
        names = ", ".join(header_of[name] for name in spec.identifiers)
        issues.append(
            _header_error(
                f"the file needs at least one identifier column: {names}", code="missing_column"
            )
        )
    if spec.kind == "simple_orders" and "id" not in layout.fields:
        issues.append(
            _warning(
                "there is no id column: every row becomes a new order each time the file is "
                "sent, so re-sending duplicates orders (spec ambiguity A12)",
                None,
                "no_order_id",
            )
        )
    return layout, issues


def _unknown(
    spec: KindSpec,
    column: Column,
    options: FormatOptions,
    known: dict[str, Field],
    issues: list[RowError],
) -> Column:
    """A column that is no field: rejected, kept as an attribute, or ignored with a warning."""
    label = column.label
    hint = _hint(label, list(known))
    policy = options.unknown_columns
    if policy is UnknownColumns.ERROR:
        issues.append(
            _header_error(
                f"column {label!r} is not a field of {spec.kind}{hint}", label, "unknown_column"
            )
        )
        return column
    if policy is UnknownColumns.ATTRIBUTE and spec.attributes and not attribute_name_problem(label):
        return Column(column.index, label, attribute=label)
    issues.append(
        _warning(
            f"column {label!r} is not a field of {spec.kind} and is ignored{hint}",
            label,
            "unknown_column",
        )
    )
    return column
