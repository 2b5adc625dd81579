"""The docstring examples of mes.groups and `mes report` run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mes.groups.summary", "mes.groups.suppression", "mes.groups.aggregation",
           "mes.groups.benchmarks", "mes.groups.norms", "mes.groups.change"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
