"""User mistakes at the command line end in one line saying what to do, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mes_responses.csv"
MES = Path(sys.executable).with_name("mes")


def _mes(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MES), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("command", "output", "says"),
    [
        ("score", "/nonexistent/dir/x.csv", "non-existent directory"),
        ("report", "/nonexistent/dir/x.csv", "non-existent directory"),
        ("score", "scores.xlsx", "name a .csv or .json file"),
        ("report", "report.xlsx", "name a .csv or .json file"),
    ],
)
def test_an_output_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, command: str, output: str, says: str
) -> None:
    done = _mes(command, str(EXAMPLE), "--instrument", "mes", "-o", output, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert says in done.stderr
    assert not (tmp_path / output).exists(), "nothing is written under a name it is not"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``mes score ... -o - | head -1``: the reader leaves early; no BrokenPipeError."""
    script = f"'{MES}' score '{EXAMPLE}' --instrument mes -o - | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.stdout.startswith("respondent,")
    assert "Traceback" not in done.stderr, done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode in (0, 141), done.returncode  # 141: 128 + SIGPIPE, as `yes | head`


def test_a_missing_input_file_is_a_usage_error(tmp_path: Path) -> None:
    done = _mes("score", "nope.csv", "--instrument", "mes", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "nope.csv" in done.stderr


def _without(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """The command line as in an install that lacks ``module`` (an import of it fails)."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from mes.cli import main\n"
        f"sys.exit(main({list(argv)!r}))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_service_commands_in_a_library_only_install_say_what_to_install() -> None:
    done = _without("sqlalchemy", "serve")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "'sqlalchemy'" in done.stderr
    assert "medical-engagement-scale[service]" in done.stderr


def test_a_plugin_that_cannot_load_still_leaves_the_other_commands() -> None:
    help_text = _without("api.auth.principal", "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "score" in help_text.stdout
    assert "medical-engagement-scale[service]" in help_text.stdout
    run = _without("api.auth.principal", "serve", "--port", "1")
    assert run.returncode == 2
    assert "medical-engagement-scale[service]" in run.stderr


def test_a_misspelled_item_column_is_named_with_the_column_it_probably_is(
    tmp_path: Path,
) -> None:
    typo = tmp_path / "typo.csv"
    typo.write_text(EXAMPLE.read_text().replace("mes03", "mes3", 1))
    done = _mes("score", str(typo), "--instrument", "mes", cwd=tmp_path)
    assert done.returncode == 1
    assert "missing item column(s) 'mes03'" in done.stderr
    assert "is 'mes3' meant to be 'mes03'?" in done.stderr


def test_repeated_or_missing_respondent_ids_are_errors_with_their_lines(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text().splitlines()
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("\n".join([*lines[:3], lines[1]]) + "\n")
    done = _mes("score", str(repeated), "--instrument", "mes", cwd=tmp_path)
    assert done.returncode == 1
    assert "line 2:" in done.stderr
    assert "line 4:" in done.stderr
    assert "appears more than once" in done.stderr
    anonymous = tmp_path / "anonymous.csv"
    anonymous.write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n")
    done = _mes("report", str(anonymous), "--instrument", "mes", "--by", "site", cwd=tmp_path)
    assert done.returncode == 1
    assert "no 'respondent' column" in done.stderr


def test_serving_on_a_port_in_use_says_so_and_fails(tmp_path: Path) -> None:
    """``mes serve`` (or ``mes demo``) beside a running server: exit 2 with a hint, not a
    logged bind error and exit 0."""
    import os
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "MES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
        done = subprocess.run([str(MES), "serve", "--port", str(port)], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"127.0.0.1:{port} is already in use" in done.stderr
    assert "--port" in done.stderr
