"""The .xlsx twin of toplivres.csv: the same header and rows as an Excel workbook.

Text is always written as text (`write_string`), never as a formula, whatever it starts
with; numbers stay numbers (money with two decimals), so the spreadsheet can sum them.
Rows are written one by one to a temporary file (xlsxwriter's constant-memory mode).
"""

import tempfile
from collections.abc import Iterable
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_TEXT = 32767  # Excel's limit for one cell


def xlsx_response(*, filename: str, header: Iterable, rows: Iterable) -> FileResponse:
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the FileResponse)
    xlsx_write(handle, header=header, rows=rows)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=CONTENT_TYPE)


def xlsx_write(handle, *, header: Iterable, rows: Iterable) -> int:
    """Write the workbook into the binary file `handle`; return the number of rows."""
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True})
    sheet = workbook.add_worksheet()
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "0.00"})
    for col, title in enumerate(header):
        sheet.write_string(0, col, str(title), bold)
    row_number = 0
    for row_number, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(row_number, col, str(value))
            elif isinstance(value, int):
                sheet.write_number(row_number, col, value)
            elif isinstance(value, Decimal | float):
                sheet.write_number(row_number, col, float(value), money)
            else:
                sheet.write_string(row_number, col, str(value)[:MAX_CELL_TEXT])
    sheet.freeze_panes(1, 0)
    workbook.close()
    return row_number
