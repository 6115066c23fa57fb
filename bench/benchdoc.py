"""The benchmarks' latest table, put into their page of docs/ between ``<!-- table -->`` and
``<!-- /table -->`` (what is outside the markers is the page's own text)."""

import time
from pathlib import Path


def put_table(doc: Path, text: str, command: str) -> None:
    current = doc.read_text()
    start = current.index("<!-- table -->") + len("<!-- table -->")
    end = current.index("<!-- /table -->")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    doc.write_text(current[:start] + f"\n\nMeasured {stamp} on this project's lab (`{command}`):\n\n{text}\n\n"
                   + current[end:])
    print(f"wrote {doc}")
