"""read_responses_csv: dialects, line numbers, and attributes kept as written."""

from __future__ import annotations

import pytest

from mes.io.csv import CsvFormatError, read_responses_csv


def test_attributes_stay_text_when_the_items_are_known() -> None:
    data = b"respondent,q1,q2,unit,band\n007,4,5,001,7\n010,3,,002,8\n"
    parsed = read_responses_csv(data, items=["q1", "q2"])
    assert parsed.frame["respondent"].tolist() == ["007", "010"]
    assert parsed.frame["unit"].tolist() == ["001", "002"]  # not 1, 2
    assert parsed.frame["band"].tolist() == ["7", "8"]
    assert parsed.frame["q1"].tolist() == [4, 3]
    # Without the items only the respondent column is protected.
    assert read_responses_csv(data).frame["unit"].tolist() == [1, 2]


def test_line_numbers_skip_blank_lines_and_follow_quoted_newlines() -> None:
    data = b'respondent,q1,note\nr1,4,"two\nlines"\n\nr2,5,x\n'
    parsed = read_responses_csv(data, items=["q1"])
    assert parsed.lines.tolist() == [2, 5]
    assert parsed.frame["note"].tolist() == ["two\nlines", "x"]


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", 1, "empty"),
        (b"respondent,q1,q1\nr1,1,2\n", 1, "duplicate column name(s) 'q1'"),
        (b"respondent,,q2\nr1,1,2\n", 1, "have no name"),
        (b"respondent,q1\nr1,1\nr2,1,2\n", 3, "3 fields where the header has 2"),
        (b"respondent,q1\nr1,\xff\n", 2, "not UTF-8"),
    ],
)
def test_unreadable_files_name_the_line_and_the_fix(data: bytes, line: int, words: str) -> None:
    with pytest.raises(CsvFormatError) as info:
        read_responses_csv(data, name="upload.csv")
    assert info.value.line == line
    assert words in str(info.value)
    assert "Fix:" in str(info.value)
