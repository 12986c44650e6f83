"""Returns laid out the ways submitters really lay them out: the notice's own variants (附件4's
表一 spans, 附件7's 表四 labels), un-merged copies, hidden sheets — written cell by cell with
openpyxl, so a test states the layout it means instead of editing the official template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import openpyxl

from pipelines.forms import get_form
from pipelines.registry import load_registry
from tests.returns import zero_values

Key = tuple[str, str]  # (row key or 表二 group key, column id)


def write_layout(
    path: Path,
    form_id: str,
    submitter: str,
    values: Mapping[Key, object] | None = None,
    *,
    campaign: int = 2025,
    drop: Iterable[str] = (),
    insert: Mapping[str, tuple[str, ...]] | None = None,
    relabel: Mapping[str, str] | None = None,
    regroup: Mapping[str, str] | None = None,
    merged: bool = True,
    level_values: Mapping[tuple[str, str], object] | None = None,
    header_lines: str = "one",
    row_header: str | None = None,
    title: str | None = None,
    annex: bool = True,
    workbook: openpyxl.Workbook | None = None,
    sheet_title: str | None = None,
    date: dt.date = dt.date(2025, 10, 8),
) -> Path:
    """One return of `form_id` on one sheet, laid out from the form's columns with changes:

    - `drop`: column ids left out; `insert`: {column id: header path} of an extra (label) column
      placed before that column; `relabel`: {column id: leaf label}; `regroup`: {group label:
      new label} (every header level);
    - `merged=False`: no merged cells at all — each header label in the first cell of its span,
      表二's type label on its first level row, type-scoped values on the first level row;
    - `level_values`: {(level row key, column id): value} typed on a level row of a
      type-scoped column (what an un-merged 表二 invites);
    - `header_lines="split"`: 填报单位 / 填表人 / 联系电话 / date on four lines, as 附件7 prints them.
    """
    form = get_form(form_id)
    sub = load_registry().by_name(submitter)
    full: dict[Key, object] = {**zero_values(form_id, submitter), **(values or {})}
    dropped, insert, relabel, regroup = set(drop), insert or {}, relabel or {}, regroup or {}

    columns: list[tuple[tuple[str, ...], str | None]] = []  # (header path, column id or None)
    for col in form.columns:
        if col.id in insert:
            columns.append((tuple(insert[col.id]), None))
        if col.id in dropped:
            continue
        head = tuple(regroup.get(p, p) for p in col.path[:-1]) + (relabel.get(col.id, col.label),)
        columns.append((head, col.id))
    depth = max(len(p) for p, _ in columns)

    wb = workbook or openpyxl.Workbook()
    ws = wb.active if workbook is None else wb.create_sheet()
    if sheet_title:
        ws.title = sheet_title
    r = 1
    if annex:
        ws.cell(r, 1, form.attachment)
        r += 1
    ws.cell(r, 1, title or form.title(campaign))
    r += 1
    unit = sub.name
    day = f"{date.year}年{date.month}月{date.day}日"
    if header_lines == "split":
        for line in (f"填报单位（盖章）：{unit}", "填表人：张敏", "联系电话：0595-22000000", day):
            ws.cell(r, 1, line)
            r += 1
    else:
        ws.cell(
            r, 1, f"填报单位（盖章）：{unit}    填表人：张敏    联系电话：0595-22000000    {day}"
        )
        r += 1
    top = r
    bottom = top + depth - 1
    merges: list[tuple[int, int, int, int]] = []
    ws.cell(top, 1, row_header or form.row_header)
    merges.append((top, 1, bottom, 1))
    label_cols = 1
    for d in range(depth):
        c = 0
        while c < len(columns):
            head, _ = columns[c]
            if len(head) <= d:
                c += 1
                continue
            end = c
            while end + 1 < len(columns) and columns[end + 1][0][: d + 1] == head[: d + 1]:
                end += 1
            col0, col1 = label_cols + c + 1, label_cols + end + 1
            row1 = bottom if d == len(head) - 1 else top + d
            ws.cell(top + d, col0, head[d])
            merges.append((top + d, col0, row1, col1))
            c = end + 1
    first = bottom + 1
    row_of = {row.key: first + i for i, row in enumerate(form.rows)}
    col_of = {cid: label_cols + i + 1 for i, (_, cid) in enumerate(columns) if cid}
    by_id = {c.id: c for c in form.columns}
    groups: dict[str, list[int]] = {}
    for row in form.rows:
        rr = row_of[row.key]
        if row.group:
            groups.setdefault(row.group, []).append(rr)
            if len(groups[row.group]) == 1:
                ws.cell(rr, 1, row.group_label)
        else:
            ws.cell(rr, 1, row.label)
        for cid, cc in col_of.items():
            col = by_id[cid]
            if col.role == "level_label":
                ws.cell(rr, cc, row.label)
            elif col.scope == "row":
                ws.cell(rr, cc, full.get((row.key, cid)))
    for group, rows in groups.items():
        merges.append((rows[0], 1, rows[-1], 1))
        for cid, cc in col_of.items():
            if by_id[cid].scope == "type":
                ws.cell(rows[0], cc, full.get((group, cid)))
                merges.append((rows[0], cc, rows[-1], cc))
    for (row_key, cid), value in (level_values or {}).items():
        ws.cell(row_of[row_key], col_of[cid], value)
    notes = first + len(form.rows)
    ws.cell(notes, 1, "注：" + "；".join(form.notes_text(campaign)))
    if merged:
        for r0, c0, r1, c1 in merges:
            if (r0, c0) != (r1, c1):
                ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
    wb.save(path)
    return path


def poison(path: Path, marker: str, text: str) -> Path:
    """Replace `marker` in every part of an xlsx with `text` as Excel stores characters XML
    cannot hold (「_x001B_」): openpyxl refuses to write control characters, Excel does not."""
    import zipfile
    from xml.sax.saxutils import escape

    encoded = "".join(
        f"_x{ord(ch):04X}_" if ord(ch) < 0x20 and ch not in "\t\n\r" else ch for ch in text
    )
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name.endswith(".xml"):
                data = data.replace(marker.encode(), escape(encoded).encode())
            zf.writestr(name, data)
    return path
