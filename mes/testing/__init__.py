"""Hypothesis strategies for validating scoring in your own property tests.

``mes.testing`` needs the optional extra ``testing`` (it brings hypothesis)::

    pip install 'medical-engagement-scale[testing]'

The strategies live in :mod:`mes.testing.strategies` and are re-exported here:

- :func:`instruments` draws valid instrument definitions (varied response
  scales, reverse-keyed items, leaf and nested composite scales, mean or sum
  scoring, min-answered rules, missing-data policies, codes, favourable_min);
- :func:`responses` draws a pandas DataFrame of valid answers to an
  instrument, with missing cells and, optionally, coded answers.

Examples
--------
>>> import numpy as np
>>> import mes
>>> from hypothesis import given, settings, strategies as st
>>> from mes.testing import instruments, responses
>>> @settings(max_examples=25, deadline=None)
... @given(st.data())
... def test_percent_stays_in_range(data):
...     inst = data.draw(instruments())
...     table = mes.score(inst, data.draw(responses(inst)))
...     for scale_id in inst.scale_ids:
...         pct = table.percent[scale_id]
...         pct = pct[~np.isnan(pct)]
...         assert ((pct >= 0) & (pct <= 100)).all()
>>> test_percent_stays_in_range()
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401  (checked here so the message names the extra)
except ImportError as exc:  # pragma: no cover - exercised in a test with hypothesis hidden
    raise ImportError(
        "mes.testing needs hypothesis, which is not installed. "
        "Install the optional extra with: pip install 'medical-engagement-scale[testing]'"
    ) from exc

from mes.testing.strategies import instruments, responses

__all__ = ["instruments", "responses"]
