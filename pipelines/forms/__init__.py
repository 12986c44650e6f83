"""Form definitions (表一–表四) loaded from config/forms/*.yaml.

Column ids are the contract between the reader, the warehouse and sql/: they are declared in the
YAML and never derived from positions or labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TypeVar

from pipelines import config

FORM_IDS = ("form1", "form2", "form3", "form4")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    id: str
    label: str
    path: tuple[str, ...]  # group labels from the top, then the leaf label
    unit: str | None
    window: str | None  # "stock", a cumulative window name, or None for label columns
    scope: str = "row"  # "row", or "type": merged over the level rows of one submitter type
    role: str = "value"  # "value", or "level_label" (表二's 层级 columns repeat row labels)
    aliases: tuple[str, ...] = ()
    # A total the front door computes when a layout of the notice leaves its column out: the
    # sum of these column ids (said so in a warning on the return).
    derived_from: tuple[str, ...] = ()

    @property
    def is_value(self) -> bool:
        return self.role == "value"

    @property
    def is_amount(self) -> bool:
        """万元 columns are decimals; every other unit counts whole things."""
        return self.unit == "万元"

    @property
    def is_stock(self) -> bool:
        return self.window == "stock"

    @property
    def display(self) -> str:
        """Label as a person reads it, with its group when the leaf alone is ambiguous."""
        return (
            "›".join(self.path[-2:]) if len(self.path) > 1 and len(self.label) <= 4 else self.label
        )


@dataclass(frozen=True, slots=True)
class RowSpec:
    key: str
    label: str
    submitter_type: str
    group: str | None = None  # 表二: the submitter type's row key (dept / street)
    group_label: str | None = None
    aliases: tuple[str, ...] = ()
    is_total: bool = False

    @property
    def type_key(self) -> str:
        return self.group or self.key

    @property
    def display(self) -> str:
        return f"{self.group_label}·{self.label}" if self.group_label else self.label


@dataclass(frozen=True, slots=True)
class HeaderCell:
    """A group or leaf in the header tree, with the leaf span it covers (for merged layout)."""

    label: str
    depth: int
    first_leaf: int
    last_leaf: int
    is_leaf: bool


@dataclass(frozen=True)
class FormSpec:
    id: str
    number: str  # 一 … 四
    attachment: str
    title_template: str
    title_key: str
    owed_by: tuple[str, ...]
    row_header: str
    rows: tuple[RowSpec, ...]
    columns: tuple[ColumnSpec, ...]  # leaves in layout order, label columns included
    header: tuple[HeaderCell, ...]
    notes: tuple[str, ...]
    depth: int = field(default=1)

    @property
    def name(self) -> str:
        """「表一」: how people name the form."""
        return f"表{self.number}"

    # Lookups below are cached on the instance (forms are loaded once per configuration
    # folder): the front door asks them for every cell of every return.
    @cached_property
    def value_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.is_value)

    @cached_property
    def _columns_by_id(self) -> dict[str, ColumnSpec]:
        return {c.id: c for c in self.columns}

    @cached_property
    def _rows_by_key(self) -> dict[str, RowSpec]:
        return {r.key: r for r in self.rows}

    @cached_property
    def type_by_key(self) -> dict[str, str]:
        """Row key or 表二 group key → the submitter type whose rows they are."""
        out: dict[str, str] = {}
        for r in self.rows:
            out.setdefault(r.key, r.submitter_type)
            if r.group:
                out.setdefault(r.group, r.submitter_type)
        return out

    @cached_property
    def _row_labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.rows:
            out.setdefault(r.key, r.display)
            if r.group:
                out.setdefault(r.group, r.group_label or r.group)
        return out

    def row_label(self, key: str) -> str:
        """How messages name a row key (or 表二 group key); the key itself when unknown."""
        return self._row_labels.get(key, key)

    def column(self, column_id: str) -> ColumnSpec:
        try:
            return self._columns_by_id[column_id]
        except KeyError:
            raise KeyError(f"{self.id} has no column {column_id}") from None

    def row(self, key: str) -> RowSpec:
        try:
            return self._rows_by_key[key]
        except KeyError:
            raise KeyError(f"{self.id} has no row {key}") from None

    def rows_of_type(self, submitter_type: str) -> tuple[RowSpec, ...]:
        return tuple(r for r in self.rows if r.submitter_type == submitter_type)

    @property
    def has_groups(self) -> bool:
        return any(r.group for r in self.rows)

    def title(self, campaign: int) -> str:
        from pipelines import periods

        return self.title_template.format(campaign_label=periods.campaign(campaign).label)

    def notes_text(self, campaign: int) -> list[str]:
        from pipelines import periods

        start = periods.campaign(campaign).start
        return [
            n.format(campaign_start=f"{start.year}年{start.month}月{start.day}日")
            for n in self.notes
        ]


def _walk(
    nodes: list[dict], prefix: tuple[str, ...], depth: int, out_cols: list, out_hdr: list
) -> None:
    for node in nodes:
        if "group" in node:
            first = len(out_cols)
            pending: list[HeaderCell] = []
            _walk(node["children"], (*prefix, node["group"]), depth + 1, out_cols, pending)
            out_hdr.append(HeaderCell(node["group"], depth, first, len(out_cols) - 1, False))
            out_hdr.extend(pending)
        else:
            idx = len(out_cols)
            out_cols.append(
                ColumnSpec(
                    id=node["id"],
                    label=node["label"],
                    path=(*prefix, node["label"]),
                    unit=node.get("unit"),
                    window=node.get("window"),
                    scope=node.get("scope", "row"),
                    role=node.get("role", "value"),
                    aliases=tuple(node.get("aliases", ())),
                    derived_from=tuple(node.get("derived_from", ())),
                )
            )
            out_hdr.append(HeaderCell(node["label"], depth, idx, idx, True))


def _build(raw: dict) -> FormSpec:
    cols: list[ColumnSpec] = []
    hdr: list[HeaderCell] = []
    _walk(raw["columns"], (), 0, cols, hdr)
    ids = [c.id for c in cols]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{raw['id']}: duplicate column ids")
    for c in cols:
        if set(c.derived_from) - set(ids) or c.id in c.derived_from:
            raise ValueError(f"{raw['id']}: {c.id} derived_from names unknown columns")
    rows = tuple(
        RowSpec(
            key=r["key"],
            label=r["label"],
            submitter_type=r["submitter_type"],
            group=r.get("group"),
            group_label=r.get("group_label"),
            aliases=tuple(r.get("aliases", ())),
            is_total=bool(r.get("is_total", False)),
        )
        for r in raw["rows"]
    )
    return FormSpec(
        id=raw["id"],
        number=raw["number"],
        attachment=raw["attachment"],
        title_template=raw["title"],
        title_key=raw["title_key"],
        owed_by=tuple(raw["owed_by"]),
        row_header=raw["row_header"],
        rows=rows,
        columns=tuple(cols),
        header=tuple(sorted(hdr, key=lambda h: (h.depth, h.first_leaf))),
        notes=tuple(raw.get("notes", ())),
        depth=max(h.depth for h in hdr) + 1,
    )


@cache
def _forms(config_dir: str) -> dict[str, FormSpec]:
    return {fid: _build(config.load(f"forms/{fid}.yaml")) for fid in FORM_IDS}


def load_forms() -> dict[str, FormSpec]:
    """All four forms, keyed by id (form1 … form4)."""
    return _forms(str(config.config_dir()))


def get_form(form_id: str) -> FormSpec:
    return load_forms()[form_id]


_T = TypeVar("_T")


def per_form(build: Callable[[FormSpec], _T]) -> Callable[[FormSpec], _T]:
    """Cache an index built from a form, by identity: forms are loaded once per configuration
    folder, and hashing a whole FormSpec would cost more than the lookup saves."""
    memo: dict[int, tuple[FormSpec, _T]] = {}

    def get(form: FormSpec) -> _T:
        hit = memo.get(id(form))
        if hit is None or hit[0] is not form:
            hit = memo[id(form)] = (form, build(form))
        return hit[1]

    get.__doc__ = build.__doc__
    get.__name__ = build.__name__
    return get
