"""Respondent ids: one person, one id, whichever way the id was typed or exported.

A survey tool, a spreadsheet and a FHIR server can write the same id in ways
that look identical and compare unequal: ``André`` composed (U+00E9) or
decomposed (``e`` + U+0301), ``r1`` with a trailing space, tab or no-break
space, with a zero-width space inside, or in full-width letters (``ｒ１``).
Stored as they came, these are different respondents: a person counted twice,
an erasure that misses them, a replacement that adds a row instead.

:func:`normalise_respondent_id` is the one rule, applied wherever an id enters
(every upload format, erasure, lookups):

- Unicode NFC and surrounding white space removed (any white space,
  including no-break spaces): the same id typed twice becomes the same text.
- Refused, with the reason: an id that is then empty; one that holds a
  control, format (zero-width, bidirectional) or unassigned character, or
  white space other than a plain space; one that NFKC would change
  (full-width letters, ligatures, superscripts), whose readable form is
  another, ordinary id.

References
----------
Unicode Standard Annex #15, Unicode Normalization Forms (NFC, NFKC).
Unicode Technical Standard #39, Unicode Security Mechanisms (confusable and
invisible characters in identifiers).
"""

from __future__ import annotations

import unicodedata

from mes.errors import MesError

__all__ = [
    "MAX_ATTRIBUTE_NAME_CHARS",
    "MAX_RESPONDENT_ID_CHARS",
    "InvalidRespondentIdError",
    "attribute_name_problem",
    "normalise_respondent_id",
]

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
