"""The benchmarks' latest table, put into their page of docs/ between ``<!-- table -->`` and
``<!-- /table -->`` (what is outside the markers is the page's own text); the change catalogue's
(tests/lab/test_change_catalogue.py) the same way between ``<!-- catalogue -->`` markers."""

import time
from pathlib import Path


def put_table(doc: Path, text: str, command: str, marker: str = "table") -> None:
    """``marker``: a page with several tables names each (``<!-- catalogue -->`` ... ``<!-- /catalogue -->``)."""
    current = doc.read_text()
    start = current.index(f"<!-- {marker} -->") + len(f"<!-- {marker} -->")
    end = current.index(f"<!-- /{marker} -->")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    doc.write_text(current[:start] + f"\n\nMeasured {stamp} on this project's lab (`{command}`):\n\n{text}\n\n"
                   + current[end:])
    print(f"wrote {doc}")
