import io
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from leadwerk.core.exports import csv_rows, neutralise, xlsx_bytes


def test_formula_starts_are_defused_and_numbers_stay():
    assert neutralise("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("+49301234") == "'+49301234"
    assert neutralise("-5") == "'-5"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("\x07bell") == "'\x07bell"
    assert neutralise("Müller") == "Müller"
    assert neutralise(-5) == -5
    assert neutralise(None) == ""


@given(st.text())
def test_no_text_cell_can_start_a_formula(text):
    value = neutralise(text)
    assert not (value and (value[0] in "=+-@" or ord(value[0]) < 32))


def test_csv_has_bom_and_semicolons():
    lines = list(csv_rows(["Name", "Ort"], [["A;B", "Köln"]]))
    assert lines[0] == "\ufeffName;Ort\r\n"
    assert lines[1] == '"A;B";Köln\r\n'


def test_xlsx_never_contains_formulas():
    data = xlsx_bytes(["Name"], [["=1+1"], [42]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
