"""Parameters that many public functions share, documented once and filled in.

As scipy.stats documents ``nan_policy`` once and injects it, a docstring here
writes ``{errors}`` or ``{strict}`` alone on a line where the parameter goes;
:func:`shared_parameters` replaces the line with the text below, indented to
match. One text means one meaning: the functions cannot drift apart.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

__all__ = ["SHARED_PARAMETERS", "fill_shared_parameters", "shared_parameters"]

SHARED_PARAMETERS = {
    "errors": '''errors : {"raise", "missing"}, default "raise"
    Invalid answers (outside the response scale, not whole numbers, unknown
    codes): ``"raise"`` raises :class:`mes.InvalidResponsesError` listing every
    one with its row and item; ``"missing"`` treats them as missing answers
    and lists them in the result's ``invalid``.''',
    "strict": '''strict : bool, default False
    Refuse columns that look like item ids but are not items of the instrument
    (:func:`mes.item_names.item_like_columns`: ``mes3`` or ``MES31`` for the
    MES) with :class:`mes.ResponseColumnsError`; attribute columns (``site``,
    ``grade``) are kept either way.''',
}
"""Parameter name -> its numpydoc entry (the name line, then the description)."""

_MARKER = re.compile(r"^([ \t]*)\{(" + "|".join(SHARED_PARAMETERS) + r")\}[ \t]*$", re.M)

F = TypeVar("F", bound=Callable[..., object])


def shared_parameters(func: F) -> F:
    """Fill the ``{errors}`` / ``{strict}`` lines of ``func``'s docstring.

    Parameters
    ----------
    func : callable
        Its docstring may hold marker lines; other braces are left alone.

    Returns
    -------
    callable
        ``func`` itself, its ``__doc__`` filled in.

    Examples
    --------
    >>> from mes.docstrings import shared_parameters
    >>> @shared_parameters
    ... def f(errors="raise"):
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     {errors}
    ...     '''
    >>> print(f.__doc__.splitlines()[4])
        errors : {"raise", "missing"}, default "raise"
    """
    if func.__doc__:
        func.__doc__ = fill_shared_parameters(func.__doc__)
    return func


def fill_shared_parameters(text: str) -> str:
    """``text`` with each ``{errors}`` / ``{strict}`` marker line replaced (see the module).

    Examples
    --------
    >>> from mes.docstrings import fill_shared_parameters
    >>> fill_shared_parameters("  {strict}").splitlines()[0]
    '  strict : bool, default False'
    """
    return _MARKER.sub(
        lambda m: textwrap.indent(SHARED_PARAMETERS[m.group(2)], m.group(1)), text
    )
