"""Every unreadable verdict names the real cause, shown on a file of each kind: password
protection in every format, an Excel binary workbook, an Apple Numbers file, a flat
OpenDocument file — and a genuine workbook with large shared strings is not a bomb."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from pipelines.reader import DEFAULT_LIMITS, Unreadable, WorkbookGrid, read_workbook
from tests.corpus import CORPUS, present
from tests.libreoffice import convert, requires_soffice
from tests.returns import write_return
from tests.test_reader_sniff import CT_XLSB, NS, make_xlsx

CT_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def verdict(path: Path) -> str:
    got = read_workbook(path)
    return f"grid:{got.format}" if isinstance(got, WorkbookGrid) else got.code


def message(path: Path) -> str:
    got = read_workbook(path)
    assert isinstance(got, Unreadable), got
    return got.message


def _encrypt(plain: bytes, path: Path) -> Path:
    """What Excel writes for 「用密码进行加密」: the package inside an encrypted OLE container."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt("季报2025", out)
    path.write_bytes(out.getvalue())
    return path


# ---------------------------------------------------------------- password protection


def test_a_password_protected_xlsx_is_encrypted(tmp_path):
    plain = write_return(tmp_path / "plain.xlsx", "form1", "常泰街道").read_bytes()
    path = _encrypt(plain, tmp_path / "加密.xlsx")
    assert verdict(path) == "encrypted" and "密码" in message(path)


def test_a_password_protected_xlsb_is_encrypted(tmp_path):
    plain = make_xlsx(tmp_path / "p.xlsb", content_type=CT_XLSB).read_bytes()
    assert verdict(_encrypt(plain, tmp_path / "加密.xlsb")) == "encrypted"


@pytest.mark.skipif(not present("poi"), reason="shared corpus not present")
@pytest.mark.parametrize("name", ["password.xls", "xor-encryption-abc.xls"])
def test_a_password_protected_xls_is_encrypted(name):
    assert verdict(CORPUS / "poi" / name) == "encrypted"


def _encrypted_ods(path: Path) -> Path:
    """An ODS saved with 「使用密码保存」: the manifest declares encryption-data for its parts,
    which are ciphertext (here random bytes, as indistinguishable as the real thing)."""
    import random

    rng = random.Random(7)
    encryption = (
        '<manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:'
        'xmlns:manifest:1.0#sha256-1k" manifest:checksum="aGVsbG8=">'
        '<manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" '
        'manifest:initialisation-vector="MDEyMzQ1Njc4OWFiY2RlZg=="/>'
        "<manifest:start-key-generation manifest:start-key-generation-name="
        '"http://www.w3.org/2000/09/xmldsig#sha256" manifest:key-size="32"/>'
        '<manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:key-size="32" '
        'manifest:iteration-count="100000" manifest:salt="c2FsdHNhbHQ="/>'
        "</manifest:encryption-data>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" '
        f'manifest:size="5120">{encryption}</manifest:file-entry>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", rng.randbytes(5120))
        zf.writestr("styles.xml", rng.randbytes(2048))
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def test_a_password_protected_ods_is_encrypted_not_damaged(tmp_path):
    path = _encrypted_ods(tmp_path / "加密.ods")
    assert verdict(path) == "encrypted" and "已损坏" not in message(path)


# ---------------------------------------------------------------- Excel binary workbooks


def _with_embedded_pptx(base: bytes, path: Path) -> Path:
    """An xlsb as Excel writes it (main part declared by Default Extension="bin") carrying an
    embedded PowerPoint file, whose content types appear beside the workbook's."""
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    ctypes = parts["[Content_Types].xml"].decode()
    ctypes = ctypes.replace(
        "</Types>",
        f'<Default Extension="pptx" ContentType="{CT_PPTX}"/>'
        f'<Override PartName="/xl/embeddings/slides.xml" ContentType="{PPTX_MAIN}"/></Types>',
    )
    parts["[Content_Types].xml"] = ctypes.encode()
    parts["xl/embeddings/Microsoft_PowerPoint_Presentation.pptx"] = b"PK\x05\x06" + bytes(18)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _bare_xlsb(path: Path) -> bytes:
    """A package whose workbook part is declared only by Default Extension="bin"."""
    rels_ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Default Extension="bin" ContentType="{CT_XLSB}"/>'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{rels_ns}"><Relationship Id="rId1" '
            f'Type="{doc}" Target="xl/workbook.bin"/></Relationships>',
        )
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00" + bytes(64))
    return path.read_bytes()


def test_an_xlsb_declared_by_default_extension_with_an_embedded_pptx_is_an_xlsb(tmp_path):
    base = _bare_xlsb(tmp_path / "bare.xlsb")
    path = _with_embedded_pptx(base, tmp_path / "季报.xlsb")
    assert verdict(path) == "unsupported"
    text = message(path)
    assert "Excel二进制工作簿（.xlsb）" in text and "另存为xlsx" in text
    assert "PowerPoint" not in text


@pytest.mark.skipif(not present("poi"), reason="shared corpus not present")
def test_a_readable_xlsb_with_an_embedded_pptx_is_read(tmp_path):
    base = (CORPUS / "poi" / "sample.xlsb").read_bytes()
    assert verdict(_with_embedded_pptx(base, tmp_path / "季报.xlsb")) == "grid:xlsb"


# ---------------------------------------------------------------- large shared strings


def test_a_genuine_workbook_with_large_shared_strings_is_not_a_bomb(tmp_path):
    """A register sheet where every row carries a long standard remark (as pasted from a notice):
    the shared strings inflate far past the ratio that marks a bomb, but they are a few MB and
    each is used once."""
    remark = "根据《关于持续改进安全生产标准化建设告知书》要求，企业应逐项落实并按季度报送。" * 40
    strings = [f"{remark}（第{i}家）" for i in range(2000)]
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>{r - 1}</v></c></row>'
        for r in range(1, len(strings) + 1)
    )
    path = make_xlsx(tmp_path / "名录.xlsx", rows, sst=sst)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/sharedStrings.xml")
    assert (
        info.file_size > 1 << 20 and info.file_size > DEFAULT_LIMITS.max_ratio * info.compress_size
    )
    got = read_workbook(path)
    assert isinstance(got, WorkbookGrid), got
    assert got.sheets[0].cells[1][1] == strings[1]


# ---------------------------------------------------------------- other suites' files


def test_an_apple_numbers_file_is_named_as_such_not_a_zip_archive(tmp_path):
    path = tmp_path / "季报.numbers"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Index/Document.iwa", bytes(64))
        zf.writestr("Index/Tables/DataList.iwa", bytes(64))
        zf.writestr("Metadata/Properties.plist", b"bplist00" + bytes(32))
        zf.writestr("Metadata/DocumentIdentifier", "6A1C0A6E-0000")
        zf.writestr("preview.jpg", b"\xff\xd8\xff" + bytes(32))
    text = message(path)
    assert verdict(path) == "not_spreadsheet" and "Apple Numbers" in text
    assert "压缩包" not in text and "导出为" in text


@requires_soffice
def test_a_flat_opendocument_spreadsheet_is_named_as_such_not_text(tmp_path):
    source = write_return(tmp_path / "季报.xlsx", "form1", "常泰街道")
    fods = convert(source, "fods", tmp_path / "out")
    text = message(fods)
    assert verdict(fods) == "not_spreadsheet" and "OpenDocument平面XML表格" in text
    assert "文本或CSV" not in text
