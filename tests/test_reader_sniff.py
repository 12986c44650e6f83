"""Sniffing: format from content, zip/XML guards, encryption, macros, sheet-size caps."""

from __future__ import annotations

import io
import random
import shutil
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from pipelines.reader import ReaderLimits, Unreadable, WorkbookGrid, read_workbook
from pipelines.reader.sniff import Sniffed, scan_sheet_xml, scan_xlsb_sheet, sniff
from tests.corpus import CORPUS, present

CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_XLSB = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def make_xlsx(
    path: Path,
    sheet_data: str = '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>',
    *,
    content_type: str = CT_XLSX,
    sst: str | None = None,
    extra: dict[str, bytes | str] | None = None,
    sheet_xml: str | None = None,
    replace: dict[str, bytes | str] | None = None,
) -> Path:
    """Minimal hand-written OOXML package (so tests control every byte of every part)."""
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{content_type}"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="{REL_NS}">'
            '<sheets><sheet name="表一" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml
        or f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{sheet_data}</sheetData></worksheet>',
    }
    if sst is not None:
        parts["xl/sharedStrings.xml"] = sst
    parts.update(replace or {})
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def verdict(path: Path, limits: ReaderLimits | None = None) -> WorkbookGrid | Unreadable:
    return read_workbook(path, limits) if limits else read_workbook(path)


def code(path: Path, limits: ReaderLimits | None = None) -> str:
    got = verdict(path, limits)
    return got.code if isinstance(got, Unreadable) else f"grid:{got.format}"


# ---------------------------------------------------------------- format from content


def test_format_from_content_not_extension(tmp_path: Path) -> None:
    x = make_xlsx(tmp_path / "really_xlsx.xls")
    got = verdict(x)
    assert isinstance(got, WorkbookGrid) and got.format == "xlsx"
    assert got.sheets[0].name == "表一" and got.sheets[0].cells == [["x"]]
    m = make_xlsx(
        tmp_path / "macro.xlsx", content_type=CT_XLSM, extra={"xl/vbaProject.bin": b"\0" * 64}
    )
    got = verdict(m)
    assert isinstance(got, WorkbookGrid) and got.format == "xlsm"
    assert "工作簿含宏（已忽略，未执行）" in got.notes
    b = make_xlsx(tmp_path / "b.xlsx", content_type=CT_XLSB)
    sn = sniff(b)
    assert isinstance(sn, Sniffed) and sn.format == "xlsb"


def test_xls_renamed_and_old_biff(tmp_path: Path) -> None:
    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("S").write(0, 0, "值")
    wb.save(str(tmp_path / "a.xls"))
    shutil.copy(tmp_path / "a.xls", tmp_path / "renamed.xlsx")
    got = verdict(tmp_path / "renamed.xlsx")
    assert isinstance(got, WorkbookGrid) and got.format == "xls" and got.sheets[0].cells == [["值"]]


def test_ods_detected_by_mimetype(tmp_path: Path) -> None:
    p = tmp_path / "x.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    sn = sniff(p)
    assert isinstance(sn, Sniffed) and sn.format == "ods"
    with zipfile.ZipFile(tmp_path / "t.odt", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    assert code(tmp_path / "t.odt") == "not_spreadsheet"


@pytest.mark.skipif(not present("wps"), reason="shared corpus not present")
def test_wps_et_by_extension_or_creator(tmp_path: Path) -> None:
    assert code(CORPUS / "wps" / "write.et") == "grid:et"
    assert code(CORPUS / "wps" / "write.xls") == "grid:xls"  # a WPS file saved as .xls stays xls
    shutil.copy(CORPUS / "wps" / "write.et", tmp_path / "attachment.bin")
    got = verdict(tmp_path / "attachment.bin")
    assert isinstance(got, WorkbookGrid) and got.format == "et"
    assert got.sheets[0].cells[0][:3] == [1.0, 2.0, 3.0]


@pytest.mark.skipif(not present("poi"), reason="shared corpus not present")
def test_ods_and_xlsb_read() -> None:
    assert code(CORPUS / "poi" / "SampleSS.ods") == "grid:ods"
    assert code(CORPUS / "poi" / "sample.xlsb") == "grid:xlsb"


# ---------------------------------------------------------------- not a spreadsheet


def _ole_word(path: Path) -> Path:
    """An OLE2 file whose only stream is 'WordDocument' (xlwt's CFB writer, stream renamed)."""
    import xlwt

    buf = io.BytesIO()
    wb = xlwt.Workbook()
    wb.add_sheet("S")
    wb.save(buf)
    data = bytearray(buf.getvalue())
    old = "Workbook\0".encode("utf-16-le")
    at = data.find(old)
    new = "WordDocument\0".encode("utf-16-le")
    data[at : at + len(new)] = new
    struct.pack_into("<H", data, at + 64, len(new))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected", "hint"),
    [
        ("a.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_spreadsheet", "PDF"),
        (
            "a.xls",
            b"<html><body><table><tr><td>1</td></tr></table></body></html>",
            "not_spreadsheet",
            "HTML",
        ),
        ("a.csv", "单位,数量\n常泰街道,5\n".encode("gb18030"), "not_spreadsheet", "CSV"),
        ("a.txt", b"just text", "not_spreadsheet", "CSV"),
        ("a.xlsx", b"", "empty", "0字节"),
        ("b.xlsx", b"\n \n", "empty", "为空"),
        ("c.xls", bytes(range(256)) * 4, "not_spreadsheet", "Excel"),
    ],
)
def test_not_spreadsheet(
    tmp_path: Path, name: str, content: bytes, expected: str, hint: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    got = verdict(p)
    assert isinstance(got, Unreadable) and got.code == expected
    assert hint in got.message and ("xlsx" in got.message or "Excel" in got.message)


def test_office_documents_that_are_not_spreadsheets(tmp_path: Path) -> None:
    docx = tmp_path / "report.xlsx"
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr("word/document.xml", "<w:document/>")
    got = verdict(docx)
    assert isinstance(got, Unreadable) and got.code == "not_spreadsheet" and "Word" in got.message
    doc = _ole_word(tmp_path / "report.xls")
    got = verdict(doc)
    assert isinstance(got, Unreadable) and got.code == "not_spreadsheet" and "Word" in got.message
    archive = tmp_path / "bundle.xlsx"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("季报/表一.txt", "x")
    got = verdict(archive)
    assert isinstance(got, Unreadable) and got.code == "not_spreadsheet" and "压缩" in got.message


def test_missing_file_and_directory_are_verdicts(tmp_path: Path) -> None:
    missing = verdict(tmp_path / "nope.xlsx")
    assert isinstance(missing, Unreadable) and missing.code == "corrupt"
    assert "文件不存在" in missing.message  # in Chinese, not the system's English strerror
    assert code(tmp_path) == "not_a_file"


# ---------------------------------------------------------------- encryption


def test_encrypted_ooxml(tmp_path: Path) -> None:
    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    with open(plain, "rb") as f, open(tmp_path / "locked.xlsx", "wb") as out:
        OOXMLFile(f).encrypt("secret", out)
    got = verdict(tmp_path / "locked.xlsx")
    assert isinstance(got, Unreadable) and got.code == "encrypted"
    assert got.message == "文件设有密码保护，请取消密码后重新报送"
    # Excel's built-in default password opens without a prompt: read it, with a note
    with open(plain, "rb") as f, open(tmp_path / "default.xlsx", "wb") as out:
        OOXMLFile(f).encrypt("VelvetSweatshop", out)
    got = verdict(tmp_path / "default.xlsx")
    assert isinstance(got, WorkbookGrid) and got.sheets[0].cells == [["x"]]
    assert any("默认密码" in n for n in got.notes)


@pytest.mark.skipif(not present("poi"), reason="shared corpus not present")
@pytest.mark.parametrize(
    "name", ["password.xls", "xor-encryption-abc.xls", "protected_passtika.xlsx", "60284.xls"]
)
def test_encrypted_corpus_files(name: str) -> None:
    assert code(CORPUS / "poi" / name) == "encrypted"


def test_zip_level_encryption_flag(tmp_path: Path) -> None:
    p = make_xlsx(tmp_path / "z.xlsx")
    data = bytearray(p.read_bytes())
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 8, struct.unpack_from("<H", data, cd + 8)[0] | 1)
    p.write_bytes(bytes(data))
    assert code(p) == "encrypted"


# ---------------------------------------------------------------- zip guards


def _set_declared_size(path: Path, name: str, size: int) -> None:
    """Make the central directory lie about an entry's uncompressed size."""
    data = bytearray(path.read_bytes())
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + n] == name.encode():
            struct.pack_into("<I", data, pos + 24, size)
        pos += 4
    path.write_bytes(bytes(data))


def test_zip_bomb_by_ratio_and_by_lying_header(tmp_path: Path) -> None:
    zeros = "<x>" + " " * (8 << 20) + "</x>"
    bomb = make_xlsx(tmp_path / "bomb.xlsx", extra={"xl/media/pad.xml": zeros})
    assert code(bomb) == "zip_bomb"
    liar = make_xlsx(tmp_path / "liar.xlsx", extra={"xl/media/pad.xml": zeros})
    _set_declared_size(liar, "xl/media/pad.xml", 1000)  # declared 1 KB, inflates to 8 MB
    assert code(liar) == "zip_bomb"
    small = ReaderLimits(max_part_inflated=1 << 20, max_ratio=1e9)
    lie2 = make_xlsx(tmp_path / "lie2.xlsx", extra={"xl/media/pad.xml": zeros})
    _set_declared_size(lie2, "xl/media/pad.xml", 1000)
    assert code(lie2, small) == "zip_bomb"  # caught by the hard cap on bytes actually produced


def test_zip_entry_count_and_total_size(tmp_path: Path) -> None:
    many = make_xlsx(tmp_path / "many.xlsx", extra={f"xl/x{i}.bin": b"1" for i in range(30)})
    assert code(many, ReaderLimits(max_zip_entries=20)) == "zip_bomb"
    assert code(many) == "grid:xlsx"
    big = make_xlsx(tmp_path / "big.xlsx", extra={"xl/media/a.bin": bytes(range(256)) * 8192})
    assert code(big, ReaderLimits(max_total_inflated=1 << 20)) == "zip_bomb"
    dup = make_xlsx(tmp_path / "dup.xlsx")
    payload = random.Random(0).randbytes(400_000)
    with zipfile.ZipFile(dup, "a") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names: each copy must still count
        for _ in range(4):
            zf.writestr("xl/media/a.bin", payload)
    assert code(dup, ReaderLimits(max_total_inflated=1 << 20)) == "zip_bomb"
    assert code(dup) == "grid:xlsx"


def test_too_large_file(tmp_path: Path) -> None:
    p = make_xlsx(tmp_path / "x.xlsx")
    assert code(p, ReaderLimits(max_file_bytes=100)) == "too_large"


def test_shared_string_amplification(tmp_path: Path) -> None:
    huge = "长" * 20_000
    sst = f'<?xml version="1.0"?><sst {NS}><si><t>{huge}</t></si></sst>'
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, 401))
    p = make_xlsx(tmp_path / "amp.xlsx", cells, sst=sst)
    assert code(p, ReaderLimits(max_shared_string_expansion=10 << 20)) == "zip_bomb"
    assert code(p) == "grid:xlsx"  # 400 x 60 KB = 24 MB: within the default budget


# ---------------------------------------------------------------- XML entities


DOCTYPE = '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'


@pytest.mark.parametrize(
    "part", ["xl/sharedStrings.xml", "xl/workbook.xml", "[Content_Types].xml", "sheet"]
)
def test_doctype_in_any_xml_part_is_refused(tmp_path: Path, part: str) -> None:
    if part == "sheet":
        p = make_xlsx(
            tmp_path / "e.xlsx", sheet_xml=DOCTYPE + f"<worksheet {NS}><sheetData/></worksheet>"
        )
    elif part == "xl/sharedStrings.xml":
        p = make_xlsx(tmp_path / "e.xlsx", sst=DOCTYPE + f"<sst {NS}><si><t>&b;</t></si></sst>")
    else:
        base = make_xlsx(tmp_path / "base.xlsx")
        with zipfile.ZipFile(base) as zf:
            original = zf.read(part).decode()
        body = original.split("?>", 1)[1]
        p = make_xlsx(tmp_path / "e.xlsx", replace={part: DOCTYPE + body})
    got = verdict(p)
    assert isinstance(got, Unreadable) and got.code == "xml_entities"
    assert got.message == "文件包含不安全的XML实体声明，已拒收，请用Excel或WPS另存为xlsx后重新报送"


def test_doctype_hidden_by_encoding_or_long_prolog(tmp_path: Path) -> None:
    utf16 = (DOCTYPE.replace('"?>', '" encoding="UTF-16"?>') + f"<sst {NS}/>").encode("utf-16")
    assert code(make_xlsx(tmp_path / "u16.xlsx", sst=utf16)) == "xml_entities"  # type: ignore[arg-type]
    padded = (
        '<?xml version="1.0"?>'
        + "<!-- "
        + "x" * 100_000
        + " -->"
        + DOCTYPE.split("?>", 1)[1]
        + "<sst/>"
    )
    assert code(make_xlsx(tmp_path / "pad.xlsx", sst=padded)) == "xml_entities"
    ok = '<?xml version="1.0"?><!-- a comment --><?pi x?>' + f"<sst {NS}><si><t>ok</t></si></sst>"
    assert code(make_xlsx(tmp_path / "ok.xlsx", sst=ok)) == "grid:xlsx"


def test_xml_map_with_external_schema(tmp_path: Path) -> None:
    maps = (
        f'<MapInfo {NS}><Schema ID="S1"><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="{loc}"/></xs:schema></Schema><Schema ID="S2"/></MapInfo>'
    )
    bad = make_xlsx(
        tmp_path / "bad.xlsx", extra={"xl/xmlMaps.xml": maps.replace("{loc}", "http://localhost/x")}
    )
    assert code(bad) == "xml_entities"
    good = make_xlsx(tmp_path / "good.xlsx", extra={"xl/xmlMaps.xml": maps.replace("{loc}", "S2")})
    assert code(good) == "grid:xlsx"


# ---------------------------------------------------------------- macros


def test_xlm_macro_sheet_noted(tmp_path: Path) -> None:
    p = make_xlsx(
        tmp_path / "m.xlsm",
        content_type=CT_XLSM,
        extra={"xl/macrosheets/sheet1.xml": "<xm:macrosheet/>"},
    )
    got = verdict(p)
    assert isinstance(got, WorkbookGrid) and any("宏" in n for n in got.notes)


@pytest.mark.skipif(not present("poi"), reason="shared corpus not present")
def test_ole_vba_noted() -> None:
    got = verdict(CORPUS / "poi" / "SimpleMacro.xls")
    assert isinstance(got, WorkbookGrid) and "工作簿含宏（已忽略，未执行）" in got.notes


# ---------------------------------------------------------------- sheet size


def test_far_away_cell_is_refused_not_allocated(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    got = verdict(make_xlsx(tmp_path / "far.xlsx", rows))
    assert isinstance(got, Unreadable) and got.code == "too_many_cells" and "表一" in got.message
    styled_only = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576" s="1"/></row>'
    )
    assert code(make_xlsx(tmp_path / "styled.xlsx", styled_only)) == "grid:xlsx"


def test_truncation_note(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="Z{r}"><v>1</v></c></row>'
        for r in range(1, 31)
    )
    limits = ReaderLimits(max_rows=10, max_cols=5)
    got = verdict(make_xlsx(tmp_path / "t.xlsx", rows), limits)
    assert isinstance(got, WorkbookGrid)
    cells = got.sheets[0].cells
    assert len(cells) == 10 and all(len(r) == 1 for r in cells) and cells[9][0] == 10.0
    assert any("仅读取前10行、前5列" in n for n in got.notes)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ('<c r="B2"><v>1</v></c><c r="AB70000"><v>1</v></c>', (70000, 28)),
        ('<c s="1" r="C5"><v>1</v></c>', (5, 3)),  # r not first: exact walk
        ("<c><v>1</v></c><c><v>1</v></c><c><v>1</v></c>", (1, 3)),  # no r: follows previous cell
        ('<c x="/>" r="XFD9"><v>1</v></c>', (9, 16384)),  # '>' inside an attribute value
        ('<c r="xfd2"><v>1</v></c>', (2, 16384)),  # lowercase reference
        ('<c r="A1" s="1"/><c r="ZZ99" s="1"/>', (9999, 702)),  # bound from letters/digits
    ],
)
def test_scan_sheet_bounding_box(cells: str, expected: tuple[int, int]) -> None:
    xml = f'<worksheet {NS}><sheetData><row r="1">{cells}</row></sheetData></worksheet>'.encode()
    got = scan_sheet_xml(xml)
    assert (got.max_row, got.max_col) >= expected
    if expected[0] * expected[1] > 1000:
        assert got.max_row * got.max_col >= expected[0] * expected[1]


def test_scan_prefixed_sheet_and_formulas() -> None:
    xml = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="B1"><x:f>A1*2</x:f></x:c>'
        b'<x:c r="C1" t="str"><x:f>""</x:f><x:v></x:v></x:c><x:c r="D1"><x:f>A1</x:f><x:v/></x:c>'
        b'<x:c r="E1"><x:f t="shared" si="0"/></x:c><x:c r="F1"><x:f>A1</x:f><x:v>1</x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    got = scan_sheet_xml(xml)
    assert got.max_row >= 1 and got.max_col >= 6
    assert got.formulas_without_value == frozenset({(0, 1), (0, 3), (0, 4)})


def make_ods(path: Path, table_body: str) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="表一">'
        f"{table_body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    return path


ODS_CELL = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'


def test_ods_repeated_cells_are_counted_before_parsing(tmp_path: Path) -> None:
    wide = ODS_CELL.replace(
        "<table:table-cell ", '<table:table-cell table:number-columns-repeated="1000" '
    )
    bomb = make_ods(
        tmp_path / "bomb.ods",
        f'<table:table-row table:number-rows-repeated="100000">{wide}</table:table-row>',
    )
    assert code(bomb) == "too_many_cells"  # 10^8 cells from a few hundred bytes
    tall = make_ods(
        tmp_path / "tall.ods",
        f'<table:table-row table:number-rows-repeated="9000">{ODS_CELL}</table:table-row>'
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
        'table:number-columns-repeated="16384"/></table:table-row>',
    )
    got = verdict(tall)
    assert isinstance(got, WorkbookGrid) and got.format == "ods"
    assert len(got.sheets[0].cells) == 5000 and got.sheets[0].cells[4999] == [1.0]
    assert any("仅读取前5000行" in n for n in got.notes)


def test_xlsb_sheet_extent() -> None:
    def rec(rtype: int, payload: bytes) -> bytes:
        return bytes([rtype, len(payload)]) + payload

    data = (
        rec(0, struct.pack("<I", 2) + bytes(13))  # BrtRowHdr row 3
        + rec(5, struct.pack("<IId", 4, 0, 1.0))  # BrtCellReal col E
        + rec(0, struct.pack("<I", 1048575) + bytes(13))
        + rec(1, struct.pack("<II", 16383, 0))  # blank cell: holds no value
        + rec(5, struct.pack("<IId", 300, 0, 1.0))
    )
    got = scan_xlsb_sheet(data)
    assert (got.max_row, got.max_col) == (1048576, 301)
