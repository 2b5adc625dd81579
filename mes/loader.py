"""Find and read instrument definitions: bundled ids and files.

Bundled definitions live in the repository's ``instruments/`` folder; a wheel
carries them as ``mes/_bundled_instruments``. :func:`load_instrument` reads a
bundled id from any working directory: a folder called ``mes`` (or a file
called like an id) in the current directory never shadows a bundled id unless
the argument is written as a path.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from mes.errors import InstrumentError, InstrumentProblem
from mes.instrument import Instrument, instrument_from_mapping

__all__ = ["bundled_dir", "bundled_ids", "instrument_schema", "load_instrument"]

_SUFFIXES = (".yaml", ".yml", ".json")


def bundled_dir() -> Path:
    """The folder holding the bundled definitions (wheel install or source checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_bundled_instruments", here.parent / "instruments"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"no bundled instruments next to {here}: reinstall the package (pip install mes)"
    )


def bundled_ids() -> list[str]:
    """Ids of the bundled instruments, sorted."""
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def _looks_like_path(ref: str) -> bool:
    return ref.endswith(_SUFFIXES) or "/" in ref or "\\" in ref or ref.startswith(".")


def load_instrument(id_or_path: str | Path) -> Instrument:
    """Load an instrument definition by bundled id or from a YAML/JSON file.

    Parameters
    ----------
    id_or_path : str or pathlib.Path
        A bundled id (``"mes"``, see :func:`bundled_ids`) or the path of a
        definition file. A string is read as a path when it ends in ``.yaml``,
        ``.yml`` or ``.json``, contains a path separator, or starts with ``.``;
        otherwise it names a bundled instrument.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        The definition breaks a rule; every problem is listed with its path and fix.
    FileNotFoundError
        No such file, or no bundled instrument of that id (the message lists them).

    Examples
    --------
    >>> import mes
    >>> mes.load_instrument("mes").scale_ids[-1]
    'index'
    """
    if isinstance(id_or_path, Path) or _looks_like_path(id_or_path):
        return _load_file(Path(id_or_path))
    return _load_bundled(id_or_path)


@lru_cache(maxsize=64)
def _load_bundled(instrument_id: str) -> Instrument:
    path = bundled_dir() / f"{instrument_id}.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no bundled instrument {instrument_id!r}; bundled: {', '.join(bundled_ids())}. "
            "To load a file, give its path (ending in .yaml, .yml or .json)."
        )
    return _load_file(path)


def _load_file(path: Path) -> Instrument:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such instrument file")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InstrumentError(
            str(path),
            [InstrumentProblem("(file)", f"not valid YAML/JSON: {exc}", "fix the syntax.")],
        ) from None
    return instrument_from_mapping(data, source=str(path))


def instrument_schema() -> dict[str, object]:
    """JSON Schema of an instrument definition, generated from :class:`mes.Instrument`.

    ``instruments/instrument.schema.json`` is this schema; a test fails when it drifts.
    """
    schema = Instrument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
