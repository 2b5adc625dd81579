"""mes.io.formula_escape: CSV cells a spreadsheet never runs, escaped reversibly (OWASP)."""

from __future__ import annotations

import csv
import doctest
import io
import re

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

import mes.io.formula_escape as formula_escape
from mes.io.csv import read_responses_csv
from mes.io.formula_escape import escape_cell, unescape_cell, write_csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What a spreadsheet reads as a number, written independently of the module.
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Text that starts with the characters that matter most often.
TEXT = st.one_of(
    st.text(),
    st.tuples(st.text(alphabet="'=+-@\t\r0123456789.eE", max_size=4), st.text()).map("".join),
)
AWKWARD = ["=HYPERLINK(\"x\")", "+44 20", "-5 years", "@home", "\tx", "\rx", "'quoted", "'=x",
           "''x", "'", "''", "-1", "-0.5", "1e3", "'-1", "-", "-inf", ""]


@given(TEXT)
@example("'")
@example("''=x")
def test_unescape_undoes_escape_for_any_text(text: str) -> None:
    assert unescape_cell(escape_cell(text)) == text


@given(TEXT)
def test_an_escaped_cell_starts_a_formula_only_when_it_is_a_plain_number(text: str) -> None:
    written = escape_cell(text)
    if written.startswith(TRIGGERS):
        assert NUMBER.fullmatch(written), written
        assert written == text  # numbers are left alone
    assert written in (text, "'" + text)


@given(TEXT)
def test_unescape_changes_only_what_escape_could_have_written(text: str) -> None:
    read = unescape_cell(text)
    assert read in (text, text[1:])
    if read != text:
        assert escape_cell(read) == text


def test_awkward_cells_are_escaped_and_read_back() -> None:
    assert [escape_cell(t) for t in AWKWARD] == [
        "'=HYPERLINK(\"x\")", "'+44 20", "'-5 years", "'@home", "'\tx", "'\rx", "'quoted",
        "''=x", "'''x", "'", "'''", "-1", "-0.5", "1e3", "''-1", "'-", "'-inf", "",
    ]
    # A file that was never escaped reads as written.
    assert [unescape_cell(t) for t in ("=x", "'quoted", "'-1", "'1", "-1")] == [
        "=x", "'quoted", "'-1", "'1", "-1"
    ]


def test_a_frame_written_with_escaped_cells_and_headers_reads_back_the_same() -> None:
    values = [v for v in AWKWARD if v]
    frame = pd.DataFrame({"respondent": values, "q1": range(len(values)),
                          **{f"{t}a{i}": values for i, t in enumerate((*TRIGGERS, "'=", "''"))}})
    text = write_csv(frame)
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    assert [c for c in cells if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)] == []
    parsed = read_responses_csv(text.encode(), items=["q1"]).frame
    assert list(parsed.columns) == list(frame.columns)
    assert parsed.to_dict("list") == frame.to_dict("list")


def test_docstring_examples() -> None:
    result = doctest.testmod(formula_escape)
    assert result.attempted > 0
    assert result.failed == 0
