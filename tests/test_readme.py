"""The README's Python example runs as written and says what its comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_engine_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    example = next(block for block in blocks if "Emulator(" in block and "upload_records" in block)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example, "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("1 ['CREATED', 'LINKED'")
    assert lines[1] == "[('CRM: Order created', '1000'), ('CRM: Order paid', '1000')]"
    assert lines[2] == "1"
