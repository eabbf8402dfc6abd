"""The README's Python example runs and prints what its comments say, against
a local cluster and against a running one."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO, child_env


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("\n## Python\n"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example(binary, cluster):
    code = readme_example()
    assert '"127.0.0.1:7070"' in code
    want = [m.group(1) for m in re.finditer(r"print\(.*\)\s+# (.*)$", code, re.M)]
    assert len(want) == 5
    code = code.replace('"127.0.0.1:7070"', repr(cluster.address))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=child_env(TALLY_BINARY=binary), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == want
