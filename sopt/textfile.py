"""Reading the text files people give sopt (progress, receipts, orders, sales history, benchmark
instances, plan.json).

One size limit, UTF-8 with or without a byte-order mark, and every defect as one problem
line `FILE: where: message` (InputError, exit code 2): a missing or unreadable file, another
encoding, binary data, broken quoting, missing columns.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sopt.errors import InputError

MAX_BYTES = 50 * 1024 * 1024  # every input file (scenario, CSVs, plan.json): far beyond a week's data


def read_text(path: Path, name: str, what: str = "a CSV file") -> str:
    """The text of a UTF-8 file (a BOM is dropped); InputError `NAME: file: ...` otherwise
    (`what` the file should be, for a folder given instead)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError([f"{name}: file: larger than {MAX_BYTES // 2**20} MiB"])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([f"{name}: file: not found"]) from None
    except IsADirectoryError:
        raise InputError([f"{name}: file: is a folder, not {what}"]) from None
    except OSError as e:
        raise InputError([f"{name}: file: cannot be read ({e.strerror})"]) from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError([f"{name}: file: UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)"])
    if b"\0" in raw:
        raise InputError([f"{name}: file: binary data, not a text file"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError([f"{name}: file: not a text file (byte {e.start} is not UTF-8)"]) from None


def dict_rows(path: Path, name: str, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a CSV file with a header, as (line number, {column: stripped cell}).

    A short row reads as empty cells; cells beyond the header are ignored; blank lines are skipped.
    """
    text = read_text(path, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        rows.extend((reader.line_num, row) for row in reader)
    except csv.Error as e:
        raise InputError([f"{name}: line {reader.line_num + 1}: not valid CSV ({e})"]) from None
    header = [h.strip() for h in rows[0][1]] if rows else []
    missing = [c for c in required if c not in header]
    if missing:
        empty = " (the file is empty)" if not rows else ""
        raise InputError([f"{name}: columns: missing {', '.join(missing)}{empty}"])
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(h, i)
    out = []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        out.append((line, {h: (row[i].strip() if i < len(row) else "") for h, i in index.items() if h}))
    return out


def shown(value: str, limit: int = 40) -> str:
    """A cell as it may appear in a one-line message: quoted, escaped, shortened."""
    text = repr(value[:limit])[1:-1]
    return f"'{text}...'" if len(value) > limit else f"'{text}'"
