"""mes: score the Medical Engagement Scale and other Likert engagement instruments.

>>> import mes
>>> inst = mes.load_instrument("mes")
>>> table = mes.score(inst, {f"mes{i:02d}": [4, 2] for i in range(1, 31)})
>>> table.scores["index"].tolist()
[4.0, 2.0]
"""

from mes.errors import (
    InstrumentError,
    InvalidResponsesError,
    MesError,
    ResponseColumnsError,
    ResponseProblem,
)
from mes.groups import (
    ComparisonSet,
    GroupReport,
    benchmark_report,
    compare_waves,
    icc,
    load_norm_table,
    summarise,
    summarise_plan,
    suppress_small_groups,
)
from mes.instrument import Instrument
from mes.io.fhir import FhirError, read_fhir
from mes.loader import bundled_ids, load_instrument
from mes.reliability import (
    ScaleCorrelations,
    ScaleReliability,
    reliability,
    scale_intercorrelations,
)
from mes.scoring import ScoreTable, score

__all__ = [
    "ComparisonSet",
    "FhirError",
    "GroupReport",
    "Instrument",
    "InstrumentError",
    "InvalidResponsesError",
    "MesError",
    "ResponseColumnsError",
    "ResponseProblem",
    "ScaleCorrelations",
    "ScaleReliability",
    "ScoreTable",
    "benchmark_report",
    "bundled_ids",
    "compare_waves",
    "icc",
    "load_instrument",
    "load_norm_table",
    "read_fhir",
    "reliability",
    "scale_intercorrelations",
    "score",
    "summarise",
    "summarise_plan",
    "suppress_small_groups",
]

__version__ = "0.1.0"
