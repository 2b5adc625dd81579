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
from mes.instrument import Instrument
from mes.io.fhir import FhirError, read_fhir
from mes.loader import bundled_ids, load_instrument
from mes.scoring import ScoreTable, score

__all__ = [
    "FhirError",
    "Instrument",
    "InstrumentError",
    "InvalidResponsesError",
    "MesError",
    "ResponseColumnsError",
    "ResponseProblem",
    "ScoreTable",
    "bundled_ids",
    "load_instrument",
    "read_fhir",
    "score",
]

__version__ = "0.1.0"
