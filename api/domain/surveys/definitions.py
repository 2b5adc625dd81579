"""What never changes about a survey, kept by each app: its tenant, instrument and attributes.

A survey's tenant, the instrument id and version it pins (an id and version name one
definition forever) and its declared attributes are fixed when it is created, and
surveys are never deleted; only its title, status and plan change. A submit needs the
fixed part to read and judge a batch, so each app keeps it once read, and a single
submit then goes to the database only to write: the survey's status is checked by the
statement that stores the rows (:func:`api.domain.responses.storage.insert_new_responses`),
never from here.

Nothing here has to be invalidated, and nothing is shared between processes. An entry is
served only to the tenant it belongs to: ``SurveyService.definition`` answers 404 to any
other, as for a survey that does not exist.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import NamedTuple

import mes

__all__ = ["SurveyDefinition", "SurveyDefinitions"]


class SurveyDefinition(NamedTuple):
    """The fixed part of a survey: what reading and judging a batch for it needs.

    Attributes
    ----------
    id, tenant_id : uuid.UUID
    instrument : mes.Instrument
        The instrument id and version the survey pins.
    declared_attributes : dict or None
        Attribute names and their allowed values (None: any value), or None: any name.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    instrument: mes.Instrument
    declared_attributes: dict[str, list[str] | None] | None


class SurveyDefinitions:
    """Survey definitions by survey id, the least recently used dropped beyond a bound.

    Parameters
    ----------
    max_entries : int
        How many surveys to keep (each entry is a few hundred bytes; the instruments
        are shared).

    Examples
    --------
    >>> import uuid
    >>> definitions = SurveyDefinitions(max_entries=1)
    >>> first, second = uuid.uuid4(), uuid.uuid4()
    >>> inst = mes.load_instrument("uwes9")
    >>> definitions.put(SurveyDefinition(first, uuid.uuid4(), inst, None))
    >>> definitions.put(SurveyDefinition(second, uuid.uuid4(), inst, None))
    >>> definitions.get(first) is None, definitions.get(second).id == second
    (True, True)
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[uuid.UUID, SurveyDefinition] = OrderedDict()

    def get(self, survey_id: uuid.UUID) -> SurveyDefinition | None:
        """The definition of a survey read before, or None."""
        found = self._entries.get(survey_id)
        if found is not None:
            self._entries.move_to_end(survey_id)
        return found

    def put(self, definition: SurveyDefinition) -> None:
        """Keep a definition read from the database."""
        self._entries[definition.id] = definition
        self._entries.move_to_end(definition.id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
