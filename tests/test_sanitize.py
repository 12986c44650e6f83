"""The one sanitiser: submitters' text never acts in any medium."""

from pipelines.sanitize import display, excel_text, one_line, quote, safe_filename, terminal


def test_control_and_bidi_characters_become_visible_escapes():
    assert display("a\x07b\x1b[31mc") == "a\\x07b\\x1b[31mc"
    assert display("报表\u202excod.xlsx") == "报表<U+202E>xcod.xlsx"
    assert "\x1b" not in terminal("\x1b]0;title\x07") and "\x07" not in terminal("\x07")
    assert display("line\nbreak") == "line\nbreak"


def test_quoted_values_are_one_line_and_cut():
    assert one_line("a\r\nb\tc") == "a b c"
    long = "很长的数值" * 20
    assert len(quote(long)) == 40 and quote(long).endswith("…")
    assert quote("12") == "12"


def test_formula_like_text_is_quote_prefixed():
    assert excel_text("=cmd|' /C calc'!A0") == ("=cmd|' /C calc'!A0", True)
    assert excel_text('=HYPERLINK("http://x")')[1]
    assert excel_text("@SUM(1)")[1] and excel_text("|x")[1]
    assert excel_text("常泰街道") == ("常泰街道", False)
    assert excel_text("a\x0bb") == ("a\\x0bb", False)


def test_file_names_lose_separators_controls_and_overrides():
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("报表\u202eslx.exe") == "报表slx.exe"
    assert safe_filename("a\x0bb.xlsx") == "a_b.xlsx"
    assert safe_filename("...") == "未命名"
