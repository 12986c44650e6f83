"""The official grid layout of each form: where the title, header, data rows and notes sit.

One layout serves every writer (blank templates, sample returns, the consolidated return), so
what the office sends out and what it reads back cannot drift apart. The reader does not use it:
submitted workbooks are recognised by their labels, wherever the table starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from openpyxl.utils import get_column_letter

from pipelines.forms import FormSpec, get_form


@dataclass(frozen=True)
class Layout:
    form: FormSpec
    title_row: int = 0  # 0-based row indexes; the optional 附件N label is left out
    header_line_row: int = 1
    header_top: int = 2
    label_cols: int = 1
    col_of: dict[str, int] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict)
    merges: tuple[tuple[int, int, int, int], ...] = ()  # 0-based inclusive (r0, c0, r1, c1)
    header_cells: tuple[tuple[int, int, str], ...] = ()  # (row, col, text)

    @property
    def header_bottom(self) -> int:
        return self.header_top + self.form.depth - 1

    @property
    def first_data_row(self) -> int:
        return self.header_bottom + 1

    @property
    def last_data_row(self) -> int:
        return self.first_data_row + len(self.form.rows) - 1

    @property
    def notes_row(self) -> int:
        return self.last_data_row + 1

    @property
    def n_cols(self) -> int:
        return self.label_cols + len(self.form.columns)

    def value_row(self, row_key: str, column_id: str) -> int:
        """Row holding (row_key, column): type-scoped columns live on their group's first row."""
        if row_key in self.row_of:
            return self.row_of[row_key]
        firsts = [self.row_of[r.key] for r in self.form.rows if r.group == row_key]
        if not firsts:
            raise KeyError(row_key)
        return min(firsts)

    def a1(self, row_key: str, column_id: str) -> str:
        return f"{get_column_letter(self.col_of[column_id] + 1)}{self.value_row(row_key, column_id) + 1}"

    def value_cells(self) -> list[tuple[str, str, int, int]]:
        """Every input cell as (row_key, column_id, row, col), once per merged value."""
        out = []
        for col in self.form.value_columns:
            c = self.col_of[col.id]
            if col.scope == "type":
                for group in dict.fromkeys(r.group for r in self.form.rows):
                    out.append((group, col.id, self.value_row(group, col.id), c))
            else:
                for r in self.form.rows:
                    out.append((r.key, col.id, self.row_of[r.key], c))
        return out

    def own_cells(self, submitter_type: str) -> list[tuple[str, str]]:
        """(row key, column id) of every input cell a submitter of this type fills."""
        type_of = self.form.type_by_key
        return [(r, c) for r, c, _, _ in self.value_cells() if type_of[r] == submitter_type]


@cache
def layout(form_id: str) -> Layout:
    form = get_form(form_id)
    top = Layout.header_top
    bottom = top + form.depth - 1
    first_data = bottom + 1
    label_cols = 1
    col_of = {c.id: label_cols + i for i, c in enumerate(form.columns)}
    row_of = {r.key: first_data + i for i, r in enumerate(form.rows)}
    merges: list[tuple[int, int, int, int]] = []
    cells: list[tuple[int, int, str]] = [(top, 0, form.row_header)]
    if bottom > top:
        merges.append((top, 0, bottom, 0))
    for h in form.header:
        r = top + h.depth
        c0, c1 = label_cols + h.first_leaf, label_cols + h.last_leaf
        cells.append((r, c0, h.label))
        r1 = bottom if h.is_leaf else r
        if (r, c0) != (r1, c1):
            merges.append((r, c0, r1, c1))
    if form.has_groups:
        for group in dict.fromkeys(r.group for r in form.rows):
            rows = [row_of[r.key] for r in form.rows if r.group == group]
            merges.append((min(rows), 0, max(rows), 0))
            for col in form.columns:
                if col.scope == "type":
                    c = col_of[col.id]
                    merges.append((min(rows), c, max(rows), c))
    last = label_cols + len(form.columns) - 1
    notes_row = first_data + len(form.rows)
    merges += [(Layout.title_row, 0, Layout.title_row, last), (notes_row, 0, notes_row, last)]
    return Layout(
        form=form,
        header_top=top,
        label_cols=label_cols,
        col_of=col_of,
        row_of=row_of,
        merges=tuple(merges),
        header_cells=tuple(cells),
    )
