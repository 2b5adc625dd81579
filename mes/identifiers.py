"""Every rule for an id or a name: instruments, scales, items, attributes, respondents.

One module, so that the loader (:mod:`mes.instrument`), the ingest paths and the
service's request schemas (``api/domain/*/schemas.py``) cannot disagree.

Instrument, scale and item ids
    Defined by an instrument definition and checked when it is loaded.

    - :data:`InstrumentId`: lower-case letters, digits, ``_`` and ``-``, starting with a
      letter or digit (``mes``, ``uwes9``). An instrument id names a bundled file, a URL
      path segment and a command-line argument, where case and dots would be ambiguous.
    - :data:`ScaleId` and :data:`ItemId`: letters of either case, digits, ``_``, ``.``
      and ``-``, starting with a letter or digit (``mes01``, ``Q1.a``, and the scales
      ``A``, ``C``, ``E``, ``N``, ``O`` of a scoring key ported from psych). Scale ids
      become JSON keys, CSV column names and report labels, none of which cares about
      case.
    - At most :data:`MAX_ID_CHARS` characters each.

    The service refers to instruments by id (``"instrument": "mes"``) without applying
    the pattern: an id that names no instrument is simply not found (404).

Attribute names (``site``, ``staff_group``)
    :func:`attribute_name_problem`: a name must survive being asked for in
    ``by=site,grade``, which splits on commas and trims white space. So no comma, no
    white space at either end, no control or invisible character, not empty, at most
    :data:`MAX_ATTRIBUTE_NAME_CHARS` characters. Every way a name enters applies it:
    the attributes of a response (JSON, CSV header, FHIR), a survey's declared
    attributes and its reporting plan (:data:`AttributeName`).

Respondent ids
    :func:`normalise_respondent_id` is the one rule, applied wherever an id enters
    (every upload format, erasure, lookups). A survey tool, a spreadsheet and a FHIR
    server can write the same id in ways that look identical and compare unequal:
    ``André`` composed (U+00E9) or decomposed (``e`` + U+0301), ``r1`` with a trailing
    space, tab or no-break space, with a zero-width space inside, or in full-width
    letters (``ｒ１``). Stored as they came, these are different respondents: a person
    counted twice, an erasure that misses them, a replacement that adds a row instead.

    - Unicode NFC and surrounding white space removed (any white space,
      including no-break spaces): the same id typed twice becomes the same text.
    - Refused, with the reason: an id that is then empty or longer than
      :data:`MAX_RESPONDENT_ID_CHARS`; one that holds a control, format (zero-width,
      bidirectional) or unassigned character, or white space other than a plain space;
      one that NFKC would change (full-width letters, ligatures, superscripts), whose
      readable form is another, ordinary id.

References
----------
Unicode Standard Annex #15, Unicode Normalization Forms (NFC, NFKC).
Unicode Technical Standard #39, Unicode Security Mechanisms (confusable and
invisible characters in identifiers).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from mes.errors import MesError

__all__ = [
    "INSTRUMENT_ID_PATTERN",
    "ITEM_ID_PATTERN",
    "MAX_ATTRIBUTE_NAME_CHARS",
    "MAX_ID_CHARS",
    "MAX_RESPONDENT_ID_CHARS",
    "SCALE_ID_PATTERN",
    "AttributeName",
    "InstrumentId",
    "InvalidRespondentIdError",
    "ItemId",
    "RespondentId",
    "ScaleId",
    "attribute_name_problem",
    "normalise_respondent_id",
]

MAX_ID_CHARS = 64
"""The longest instrument, scale or item id, in characters."""
INSTRUMENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
"""Instrument ids: lower case, digits, ``_`` and ``-`` (``mes``, ``uwes9``)."""
ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""Item ids: letters of either case, digits, ``_``, ``.`` and ``-`` (``mes01``, ``Q1.a``)."""
SCALE_ID_PATTERN = ITEM_ID_PATTERN
"""Scale ids: as item ids (``open_culture``, or ``A``, ``C``, ``E``, ``N``, ``O``)."""

MAX_RESPONDENT_ID_CHARS = 200
"""The longest respondent id, in characters, after normalisation."""
MAX_ATTRIBUTE_NAME_CHARS = 64
"""The longest attribute name (``site``, ``staff_group``), in characters."""

_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


class InvalidRespondentIdError(MesError, ValueError):
    """A respondent id that cannot be normalised into an unambiguous one.

    Attributes
    ----------
    value : str
        The id as given.
    reason : str
        What is wrong and how to fix it.
    """

    def __init__(self, value: str, reason: str) -> None:
        self.value, self.reason = value, reason
        super().__init__(f"respondent id {value!r}: {reason}")


def normalise_respondent_id(value: str) -> str:
    """The canonical form of a respondent id, or :class:`InvalidRespondentIdError`.

    Parameters
    ----------
    value : str
        The id as sent.

    Returns
    -------
    str
        NFC, without surrounding white space.

    Raises
    ------
    InvalidRespondentIdError
        Empty once trimmed, longer than :data:`MAX_RESPONDENT_ID_CHARS`, or
        holding a character that makes two ids look alike (see the module
        docstring).
    TypeError
        When ``value`` is not a string.

    Examples
    --------
    >>> normalise_respondent_id(" Andre\\u0301\\t") == "Andr\\u00e9"
    True
    >>> try:
    ...     normalise_respondent_id("r\\u200b1")
    ... except InvalidRespondentIdError as exc:
    ...     print(exc.reason)
    holds an invisible formatting character (U+200B ZERO WIDTH SPACE) at position 1; remove it
    """
    if not isinstance(value, str):
        raise TypeError(f"a respondent id is text, got {type(value).__name__}")
    if value.isascii():  # the common case: only the trim and the control check apply
        text = value.strip()
        if text.isprintable() and 0 < len(text) <= MAX_RESPONDENT_ID_CHARS:
            return text
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidRespondentIdError(value, "is blank; give every respondent an id")
    if len(text) > MAX_RESPONDENT_ID_CHARS:
        raise InvalidRespondentIdError(
            value[:40] + "...",
            f"has {len(text)} characters; the limit is {MAX_RESPONDENT_ID_CHARS}",
        )
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        what = _REFUSED_CATEGORIES.get(category)
        if what is None and char.isspace() and char != " ":
            what = "white space other than a plain space"
        if what is not None:
            raise InvalidRespondentIdError(
                value,
                f"holds {what} ({_name(char)}) at position {position}; remove it",
            )
    compatible = unicodedata.normalize("NFKC", text)
    if compatible != text:
        raise InvalidRespondentIdError(
            value,
            f"holds compatibility characters (full-width letters, ligatures, superscripts) "
            f"that read as {compatible!r}; send {compatible!r}",
        )
    return text


def attribute_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an attribute name, or None when it can.

    An attribute is reported on by naming it (``by=site,grade``), so a name
    must survive that: no comma, no white space at either end, no control or
    invisible character, not empty, at most :data:`MAX_ATTRIBUTE_NAME_CHARS`
    characters.

    Examples
    --------
    >>> attribute_name_problem("staff_group") is None
    True
    >>> attribute_name_problem("site, ward")
    "holds a comma, which separates names in by=site,grade; rename it (e.g. 'site_ward')"
    """
    if not name:
        return "is empty; name the attribute"
    if len(name) > MAX_ATTRIBUTE_NAME_CHARS:
        return f"has {len(name)} characters; the limit is {MAX_ATTRIBUTE_NAME_CHARS}"
    if name != name.strip():
        return f"starts or ends with white space; send {name.strip()!r}"
    if "," in name:
        suggestion = "_".join(part.strip() for part in name.split(",") if part.strip())
        return (
            "holds a comma, which separates names in by=site,grade; rename it "
            f"(e.g. {suggestion!r})"
        )
    for char in name:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"holds an invisible or control character ({_name(char)}); remove it"
    return None


def _name(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def _checked_attribute_name(name: str) -> str:
    problem = attribute_name_problem(name)
    if problem is not None:
        raise ValueError(f"the attribute name {name!r} {problem}")
    return name


InstrumentId = Annotated[str, Field(pattern=INSTRUMENT_ID_PATTERN, max_length=MAX_ID_CHARS)]
"""An instrument id where one is defined (see the module docstring)."""
ScaleId = Annotated[str, Field(pattern=SCALE_ID_PATTERN, max_length=MAX_ID_CHARS)]
"""A scale id where one is defined."""
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN, max_length=MAX_ID_CHARS)]
"""An item id where one is defined."""
AttributeName = Annotated[str, AfterValidator(_checked_attribute_name)]
"""An attribute name in a request body: :func:`attribute_name_problem` as a type (its
message, not a regular expression's, says what is wrong)."""
RespondentId = Annotated[str, Field(min_length=1, max_length=MAX_RESPONDENT_ID_CHARS)]
"""A respondent id as a request body documents it; :func:`normalise_respondent_id` is the
rule every ingest path applies."""
