"""``import mes`` stays a library import: no plotting, ML, web or statistics framework loads,
and it costs about what its own dependencies cost; ``mes --help`` answers within a second."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("matplotlib", "seaborn", "sklearn", "statsmodels", "pingouin", "litestar",
         "sqlalchemy", "uvicorn", "asyncpg", "scipy.stats")


def _seconds(code: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
        best = min(best, time.perf_counter() - started)
    return best


def test_import_mes_loads_no_heavy_package() -> None:
    code = "import sys, mes; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True, timeout=120).stdout.split())
    assert not [m for m in HEAVY if m in loaded]


def test_import_mes_costs_about_its_dependencies() -> None:
    # Best of five, interleaved by repetition: the ratio, not the seconds, is the test.
    base = _seconds("import numpy, pandas, pydantic, yaml")
    ours = _seconds("import mes")
    assert ours <= 1.5 * base, f"import mes {ours:.2f} s against {base:.2f} s for its dependencies"


def test_mes_help_answers_within_a_second() -> None:
    mes = Path(sys.executable).with_name("mes")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run([str(mes), "--help"], capture_output=True, text=True, timeout=60)
        best = min(best, time.perf_counter() - started)
        assert done.returncode == 0
    assert best < 1.0, f"mes --help took {best:.2f} s"
