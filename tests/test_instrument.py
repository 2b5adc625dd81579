"""Instrument definitions: the bundled files and every rule of the format."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import mes
from mes.errors import InstrumentProblem
from mes.instrument import instrument_from_mapping
from mes.loader import instrument_schema

ROOT = Path(__file__).resolve().parents[1]

MES_SCALES = {
    "climate_for_positive_change": "open_culture",
    "good_interpersonal_relationships": "open_culture",
    "appraisal_and_rewards": "purpose_and_direction",
    "participation_in_decision_making": "purpose_and_direction",
    "development_orientation": "valued_and_empowered",
    "work_satisfaction": "valued_and_empowered",
}


def base() -> dict[str, Any]:
    return {
        "id": "tiny",
        "version": "1",
        "title": "Tiny",
        "licence": "CC0",
        "response_scale": {"min": 1, "max": 5, "codes": {"SD": 1}, "favourable_min": 4},
        "items": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}],
        "scales": [
            {"id": "s1", "items": ["a", "b"]},
            {"id": "s2", "items": ["c", "d"]},
            {"id": "all", "scales": ["s1", "s2"]},
        ],
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def problems_of(tmp_path: Path, data: dict[str, Any]) -> tuple[str, list[InstrumentProblem]]:
    path = write(tmp_path, data)
    with pytest.raises(mes.InstrumentError) as info:
        mes.load_instrument(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    return str(info.value), info.value.problems


def test_bundled_mes_has_the_published_structure() -> None:
    inst = mes.load_instrument("mes")
    assert inst.item_ids == tuple(f"mes{i:02d}" for i in range(1, 31))
    assert list(inst.scale_ids) == [*MES_SCALES, "open_culture", "purpose_and_direction",
                                    "valued_and_empowered", "index"]
    for block, sub in enumerate(MES_SCALES):
        assert inst.leaf_items(sub) == tuple(f"mes{i:02d}" for i in range(5 * block + 1,
                                                                          5 * block + 6))
    for meta in ("open_culture", "purpose_and_direction", "valued_and_empowered"):
        subs = [s for s, m in MES_SCALES.items() if m == meta]
        assert inst.scale(meta).scales == subs
        assert len(inst.leaf_items(meta)) == 10
    assert inst.leaf_items("index") == inst.item_ids
    assert not inst.reverse_mask.any()
    assert "proprietary" in inst.licence
    assert "placeholder" in inst.licence


@pytest.mark.parametrize("instrument_id", ["nhs_staff_engagement", "uwes9"])
def test_public_instruments_state_their_licence_and_cover_every_item(instrument_id: str) -> None:
    inst = mes.load_instrument(instrument_id)
    assert "paraphrase" in inst.licence
    assert inst.membership.sum(axis=1).min() >= 2  # each item in its sub-scale and the total


def test_uwes9_structure_follows_schaufeli_2006() -> None:
    # Schaufeli, Bakker & Salanova (2006), table 1: vigour 1, 2, 5; dedication 3, 4, 7;
    # absorption 6, 8, 9; answers 0 (never) to 6 (always).
    inst = mes.load_instrument("uwes9")
    assert inst.leaf_items("vigour") == ("uwes1", "uwes2", "uwes5")
    assert inst.leaf_items("dedication") == ("uwes3", "uwes4", "uwes7")
    assert inst.leaf_items("absorption") == ("uwes6", "uwes8", "uwes9")
    assert (inst.response_scale.min, inst.response_scale.max) == (0, 6)


def test_bundled_id_resolves_from_a_directory_with_a_mes_folder(tmp_path: Path) -> None:
    (tmp_path / "mes").mkdir()
    (tmp_path / "mes" / "__init__.py").write_text("raise RuntimeError('shadowed')\n")
    (tmp_path / "mes.yaml").write_text("not: an instrument\n")
    code = "import mes; print(mes.load_instrument('mes').title)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # -P: do not put the working directory on sys.path, as the console script does not.
    out = subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Medical Engagement Scale"


def test_a_path_is_read_as_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, base())
    assert mes.load_instrument(str(path)).id == "tiny"
    assert mes.load_instrument(path).leaf_items("all") == ("a", "b", "c", "d")


def test_unknown_bundled_id_lists_the_bundled_ones() -> None:
    with pytest.raises(FileNotFoundError, match="bundled: mes, nhs_staff_engagement, uwes9"):
        mes.load_instrument("mse")


def test_schema_file_is_generated_from_the_model() -> None:
    on_disk = json.loads((ROOT / "instruments" / "instrument.schema.json").read_text())
    assert on_disk == instrument_schema(), (
        "instruments/instrument.schema.json is out of date: regenerate it with\n"
        "  mes instruments schema > instruments/instrument.schema.json"
    )


def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(base())
    target: Any = data
    keys = path.split("/")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


BROKEN = [
    # (what is broken, mutation path, value, expected path in the error, words of the fix)
    ("duplicate item id", "items/1", {"id": "a"}, "items[1]", "unique"),
    ("duplicate scale id", "scales/1", {"id": "s1", "items": ["c", "d"]}, "scales[1]", "unique"),
    ("unknown item reference", "scales/0/items", ["a", "zz"], "scales[0] (s1).items[1]",
     "add it under 'items'"),
    ("unknown scale reference", "scales/2/scales", ["s1", "nope"], "scales[2] (all).scales[1]",
     "define it"),
    ("items and scales both", "scales/0", {"id": "s1", "items": ["a", "b"], "scales": ["s2"]},
     "scales[0] (s1)", "exactly one"),
    ("neither items nor scales", "scales/0", {"id": "s1"}, "scales[0] (s1)", "exactly one"),
    ("a one-item scale", "scales/0/items", ["a"], "scales[0] (s1)", "add items"),
    ("favourable_min outside", "response_scale/favourable_min", 6,
     "response_scale.favourable_min", "between 1 and 5"),
    ("code outside the scale", "response_scale/codes", {"SD": 0},
     "response_scale.codes.SD", "between 1 and 5"),
    ("min not below max", "response_scale/max", 1, "response_scale", "lowest"),
    ("bad id characters", "id", "Tiny Scale", "id", "matching"),
    ("unknown field", "colour", "blue", "colour", "remove the field"),
    ("missing field", "title", None, "title", "correct the value"),
]


@pytest.mark.parametrize(("what", "where", "value", "path", "fix"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_every_rule_is_enforced_with_path_and_fix(
    tmp_path: Path, what: str, where: str, value: Any, path: str, fix: str
) -> None:
    message, problems = problems_of(tmp_path, _mutate(where, value))
    assert any(p.path == path and fix in p.fix for p in problems), message


def test_item_in_no_scale_is_named(tmp_path: Path) -> None:
    data = base()
    data["items"].append({"id": "orphan"})
    _, problems = problems_of(tmp_path, data)
    assert [(p.path, p.message) for p in problems] == [
        ("items[4] (orphan)", "the item belongs to no scale.")
    ]


def test_cycles_are_named(tmp_path: Path) -> None:
    data = base()
    data["scales"].append({"id": "loop1", "scales": ["loop2", "s1"]})
    data["scales"].append({"id": "loop2", "scales": ["loop1"]})
    _, problems = problems_of(tmp_path, data)
    cycle = [p for p in problems if "cycle" in p.message]
    assert len(cycle) == 1
    assert "loop1 -> loop2 -> loop1" in cycle[0].message


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    data = base()
    data["response_scale"]["favourable_min"] = 9
    data["scales"][0]["items"] = ["a", "missing1"]
    data["scales"][1]["items"] = ["c", "missing2"]
    _, problems = problems_of(tmp_path, data)
    paths = {p.path for p in problems}
    assert {"response_scale.favourable_min", "scales[0] (s1).items[1]",
            "scales[1] (s2).items[1]"} <= paths


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(mes.InstrumentError, match=r"(?s)bad\.yaml.*not valid YAML"):
        mes.load_instrument(path)


def test_min_answered_count_is_ceiling_without_float_noise() -> None:
    data = base()
    data["items"] += [{"id": "e"}]
    data["scales"][1] = {"id": "s2", "items": ["c", "d", "e"], "min_answered": 0.6}
    data["scoring"] = {"min_answered": 0.7}
    inst = instrument_from_mapping(data)
    assert inst.min_answered_count("s2") == 2  # ceil(0.6 * 3) = ceil(1.8)
    assert inst.min_answered_count("s1") == 2  # ceil(0.7 * 2) = ceil(1.4)
    assert inst.min_answered_count("all") == 4  # ceil(0.7 * 5) = ceil(3.5)
    data["scales"][1]["min_answered"] = 1.0
    assert instrument_from_mapping(data).min_answered_count("s2") == 3


def test_scale_ids_follow_the_item_id_rule() -> None:
    # A psych scoring key ported as it is: the Big Five scales A, C, E, N, O.
    items = [f"{s}{i}" for s in "ACENO" for i in (1, 2)]
    data = {**base(), "items": [{"id": i} for i in items],
            "scales": [{"id": s, "items": [f"{s}1", f"{s}2"]} for s in "ACENO"]}
    inst = instrument_from_mapping(data)
    assert inst.scale_ids == ("A", "C", "E", "N", "O")
    table = mes.score(inst, {i: [1, 5] for i in items})
    assert table.scores["N"].tolist() == [1.0, 5.0]
    data["scales"][0]["id"] = "Agree.ableness-1_x"
    assert instrument_from_mapping(data).scale_ids[0] == "Agree.ableness-1_x"


@pytest.mark.parametrize(("where", "value", "path"), [
    ("scales/0/id", "a b", "scales[0].id"), ("scales/0/id", "-a", "scales[0].id"),
    ("scales/0/id", "s" * 65, "scales[0].id"), ("items/0/id", "a,b", "items[0].id"),
    ("id", "Tiny", "id"), ("id", "tiny.v2", "id"),
])
def test_ids_outside_the_rules_of_mes_identifiers_are_refused(
    tmp_path: Path, where: str, value: str, path: str
) -> None:
    message, problems = problems_of(tmp_path, _mutate(where, value))
    assert path in {p.path for p in problems}, message
