"""Stage 1, parse: turn an upload into a UTF-8 CSV on disk and read it back in bounded chunks.

Every upload is stored once as UTF-8 CSV without BOM (converted from Windows-1252, UTF-16 or XLSX
when needed), with its delimiter sniffed, so the later stages see one format. Reading goes through
polars' streaming CSV reader in batches: memory stays bounded by the chunk size, not the file size.
"""

from __future__ import annotations

import codecs
import csv
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from leadwerk.core.exceptions import ValidationFailed

SAMPLE_BYTES = 64 * 1024
BLOCK_BYTES = 1024 * 1024
DELIMITERS = ";,\t|"
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Prepared:
    stored_file: str  # name inside settings.IMPORT_DIR
    source_format: str
    source_encoding: str
    delimiter: str
    headers: list[str]
    total_rows: int


def import_dir() -> Path:
    path = Path(settings.IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(stored_file: str) -> Path:
    return import_dir() / Path(stored_file).name  # never leaves the directory


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def prepare_upload(upload, *, name: str) -> Prepared:
    """Store the upload as UTF-8 CSV; refuse empty, oversized, unreadable or unknown files as form errors."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise _file_error(
            _("The file is too large (at most %(mb)s MB).") % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    token = uuid.uuid4().hex
    raw = import_dir() / f"{token}.upload"
    written = 0
    with raw.open("wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(BLOCK_BYTES), b""):
            written += len(chunk)
            if written > settings.IMPORT_MAX_BYTES:
                out.close()
                raw.unlink(missing_ok=True)
                raise _file_error(
                    _("The file is too large (at most %(mb)s MB).") % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
                )
            out.write(chunk)
    target = import_dir() / f"{token}.csv"
    try:
        return _prepare_file(raw, target, name=name)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    finally:
        raw.unlink(missing_ok=True)


def prepare_path(path: Path, *, name: str) -> Prepared:
    """The same as prepare_upload for a file already on disk (commands, benchmarks); the file is copied."""
    token = uuid.uuid4().hex
    raw = import_dir() / f"{token}.upload"
    shutil.copyfile(path, raw)
    target = import_dir() / f"{token}.csv"
    try:
        return _prepare_file(raw, target, name=name)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    finally:
        raw.unlink(missing_ok=True)


def _prepare_file(raw: Path, target: Path, *, name: str) -> Prepared:
    with raw.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise _file_error(_("The file is empty."))
    if head.startswith(XLSX_MAGIC):
        _xlsx_to_csv(raw, target)
        fmt, encoding, delimiter = "xlsx", "", ","
    else:
        if name.lower().endswith((".xlsx", ".xls", ".xlsm", ".ods", ".pdf", ".doc", ".docx", ".zip")):
            raise _file_error(_("Upload a CSV or XLSX file."))
        encoding = _detect_encoding(raw, head)
        _to_utf8(raw, target, encoding)
        with target.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES).decode("utf-8", "ignore")
        delimiter = sniff_delimiter(sample)
        fmt = "csv"
    headers = _headers(target, delimiter)
    if not headers:
        raise _file_error(_("The file is empty."))
    total = _count_rows(target, delimiter, len(headers))
    if total == 0:
        raise _file_error(_("The file has a header but no data rows."))
    return Prepared(target.name, fmt, encoding, delimiter, headers, total)


def _detect_encoding(raw: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        if b"\x00" in head:
            raise _file_error(_("Upload a CSV or XLSX file."))
        encoding = "utf-8"
    if _decodes(raw, encoding):
        return encoding
    if encoding == "utf-8" and _decodes(raw, "cp1252"):
        return "cp1252"  # what German Excel writes as "CSV (Trennzeichen-getrennt)"
    raise _file_error(_("The file's character encoding could not be read; save it as UTF-8 CSV."))


def _decodes(raw: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with raw.open("rb") as handle:
            while block := handle.read(BLOCK_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _to_utf8(raw: Path, target: Path, encoding: str) -> None:
    if encoding == "utf-8":
        os.replace(raw, target)
        return
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with raw.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
        while block := source.read(BLOCK_BYTES):
            out.write(decoder.decode(block))
        out.write(decoder.decode(b"", final=True))


def sniff_delimiter(sample: str) -> str:
    lines = sample.splitlines()[:20]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _xlsx_to_csv(raw: Path, target: Path) -> None:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(raw))
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as exc:  # fastexcel raises its own error classes for broken or protected files
        raise _file_error(_("The XLSX file could not be read.")) from exc
    if frame.height == 0:
        raise _file_error(_("The file is empty."))
    frame.write_csv(target, include_header=False)


def _headers(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        first = next(reader, [])
    headers = [cell.strip() for cell in first]
    while headers and not headers[-1]:
        headers.pop()
    seen: dict[str, int] = {}
    unique = []
    for position, header in enumerate(headers, start=1):
        header = header or _("Column %(n)s") % {"n": position}
        if header in seen:
            seen[header] += 1
            header = f"{header} ({seen[header]})"
        else:
            seen[header] = 1
        unique.append(header)
    return unique


def _scan(path: Path, delimiter: str, columns: int, *, offset: int = 0) -> pl.LazyFrame:
    return pl.scan_csv(
        path,
        separator=delimiter,
        has_header=True,
        infer_schema=False,  # every cell as text; normalisation decides what it means
        with_column_names=lambda names: [f"c{i}" for i in range(len(names))],
        skip_rows_after_header=offset,
        truncate_ragged_lines=True,
        raise_if_empty=False,
        empty_string_is_null=False,
    ).select([f"c{i}" for i in range(columns)])


def _count_rows(path: Path, delimiter: str, columns: int) -> int:
    try:
        return int(_scan(path, delimiter, columns).select(pl.len()).collect().item())
    except pl.exceptions.PolarsError as exc:
        raise _file_error(_("The file could not be read as CSV: %(error)s") % {"error": str(exc)[:200]}) from exc


def preview(path: Path, delimiter: str, columns: int, rows: int = 10) -> list[list[str]]:
    frame = _scan(path, delimiter, columns).head(rows).collect()
    return [[cell or "" for cell in row] for row in frame.rows()]


def read_chunks(path: Path, delimiter: str, columns: int, *, offset: int, size: int) -> Iterator[list[tuple]]:
    """Data rows after the first ``offset`` ones, ``size`` at a time, as tuples of str or None."""
    frame = _scan(path, delimiter, columns, offset=offset)
    pending: list[tuple] = []
    for batch in frame.collect_batches(chunk_size=size):
        pending.extend(batch.rows())
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending
