"""Safe CSV and XLSX writers for every export.

CSV: a cell that a spreadsheet would read as a formula (starting with = + - @, a tab, a carriage
return or another control character) gets a leading apostrophe, as OWASP recommends against CSV
injection. XLSX: every value is written as a typed string or number, never as a formula, so nothing
is evaluated; the same neutralisation is applied so both files read alike.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> object:
    """Numbers and dates stay typed; text that could start a formula is defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal | date | datetime):
        return value
    text = str(value)
    if text and (text.startswith(DANGEROUS_START) or ord(text[0]) < 32):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ";") -> Iterator[str]:
    """CSV lines for a streaming response: UTF-8 BOM first (German Excel), semicolons by default."""
    writer = csv.writer(_Echo(), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    yield "\ufeff" + writer.writerow([neutralise(h) for h in header])
    for row in rows:
        yield writer.writerow([_csv_cell(value) for value in row])


def _csv_cell(value: object) -> object:
    value = neutralise(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str = "Export") -> bytes:
    """An XLSX file written in constant-memory mode (rows are flushed as they are written)."""
    with tempfile.TemporaryFile() as handle:
        book = xlsxwriter.Workbook(
            handle, {"constant_memory": True, "in_memory": False, "tmpdir": tempfile.gettempdir()}
        )
        ws = book.add_worksheet(sheet[:31])
        bold = book.add_format({"bold": True})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        for col, title in enumerate(header):
            ws.write_string(0, col, str(neutralise(title)), bold)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                value = neutralise(value)
                if isinstance(value, bool):
                    ws.write_boolean(r, col, value)
                elif isinstance(value, int | float | Decimal):
                    ws.write_number(r, col, float(value))
                elif isinstance(value, datetime):
                    ws.write_datetime(r, col, value.replace(tzinfo=None), date_format)
                elif isinstance(value, date):
                    ws.write_datetime(r, col, datetime(value.year, value.month, value.day), date_format)
                else:
                    ws.write_string(r, col, value)
        book.close()
        handle.seek(0)
        return handle.read()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_response(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, file_format: str, filename: str, sheet: str = "Export"
):
    """An export as a download: CSV streamed in constant memory, XLSX built in a temporary file."""
    from django.http import HttpResponse, StreamingHttpResponse

    if file_format == "xlsx":
        response = HttpResponse(xlsx_bytes(header, rows, sheet=sheet), content_type=XLSX_TYPE)
    else:
        response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


__all__ = ["csv_rows", "file_response", "neutralise", "xlsx_bytes"]
