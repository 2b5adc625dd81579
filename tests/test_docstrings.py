"""Shared parameters are documented once (mes.docstrings) and read the same everywhere."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap

import pytest

import mes
from mes.docstrings import SHARED_PARAMETERS
from mes.groups import compare_series, compare_waves, summarise, summarise_plan
from mes.groups.grouping import prepare_scores
from mes.reliability import reliability, scale_intercorrelations
from mes.responses import response_matrix

TAKE_ERRORS = [mes.score, response_matrix, reliability, scale_intercorrelations, summarise,
               summarise_plan, compare_waves, compare_series, prepare_scores]


@pytest.mark.parametrize("func", TAKE_ERRORS, ids=lambda f: f.__qualname__)
def test_every_function_taking_errors_documents_it_in_the_one_shared_text(func) -> None:
    assert "errors" in inspect.signature(func).parameters
    assert textwrap.indent(SHARED_PARAMETERS["errors"], "    ") in (func.__doc__ or "")
    if "strict" in inspect.signature(func).parameters:
        assert textwrap.indent(SHARED_PARAMETERS["strict"], "    ") in (func.__doc__ or "")


def test_no_docstring_of_mes_keeps_an_unfilled_marker() -> None:
    left = []
    for info in pkgutil.walk_packages(mes.__path__, "mes."):
        if info.name.endswith(("__main__", ".docstrings")):  # runs the CLI; defines the markers
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            doc = getattr(obj, "__doc__", None) or ""
            if getattr(obj, "__module__", None) == info.name and (
                    "{errors}" in doc or "{strict}" in doc):
                left.append(f"{info.name}.{name}")
    assert left == []
