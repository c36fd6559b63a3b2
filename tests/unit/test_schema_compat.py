"""Contract: the committed JSON Schemas in docs/schemas/ change only compatibly, unless versioned.

A breaking change is a new type version (`...v2`, a new schema file); the old type and its schema
stay until the type is retired. Regenerate with `python -m sellerflow.schemas`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sellerflow.schemas import (
    SCHEMA_DIR,
    IncompatibleSchema,
    event_schema,
    incompatibilities,
    render,
    write_schemas,
)
from shared.events import EVENT_TYPES

COMMITTED = sorted(SCHEMA_DIR.glob("*.json"))
ORDER = "sellerflow.order.confirmed.v1"


def committed(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_every_event_type_has_a_committed_schema() -> None:
    missing = sorted(set(EVENT_TYPES) - {path.stem for path in COMMITTED})
    assert not missing, f"no schema committed for {missing}: run python -m sellerflow.schemas"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: path.stem)
def test_the_current_schema_is_backward_compatible_with_the_committed_one(path: Path) -> None:
    assert path.stem in EVENT_TYPES, f"{path.stem} was removed; retire its schema file deliberately"
    problems = incompatibilities(committed(path), event_schema(path.stem))
    assert not problems, f"{path.stem} changed incompatibly; publish a new major version instead: {problems}"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: path.stem)
def test_the_committed_schema_is_up_to_date(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == render(event_schema(path.stem)), (
        "run python -m sellerflow.schemas and commit docs/schemas/"
    )


def test_a_schema_is_compatible_with_itself() -> None:
    schema = event_schema(ORDER)
    assert incompatibilities(schema, copy.deepcopy(schema)) == []


def test_a_new_optional_property_and_a_wider_enum_are_compatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    new["$defs"]["OrderConfirmed"]["properties"]["gift_wrap"] = {"type": "boolean", "default": False}
    new["$defs"]["ShippingSpeed"]["enum"].append("same_day")
    new["$defs"]["ConfirmedLine"]["properties"]["quantity"]["maximum"] = 1_000_000
    assert incompatibilities(old, new) == []


def test_a_removed_property_is_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    del new["$defs"]["OrderConfirmed"]["properties"]["deliver_by"]
    new["$defs"]["OrderConfirmed"]["required"].remove("deliver_by")
    assert incompatibilities(old, new) == ["data.deliver_by: property removed"]


def test_a_nested_removed_property_is_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    del new["$defs"]["Address"]["properties"]["region"]
    assert incompatibilities(old, new) == ["data.ship_to.region: property removed"]


def test_a_newly_required_property_is_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    new["$defs"]["OrderConfirmed"]["properties"]["warehouse"] = {"type": "string"}
    new["$defs"]["OrderConfirmed"]["required"].append("warehouse")
    new["$defs"]["ConfirmedLine"]["required"] = [*new["$defs"]["ConfirmedLine"]["required"], "brand"]
    assert incompatibilities(old, new) == [
        "data.lines[].brand: property newly required",
        "data.warehouse: property newly required",
    ]


def test_a_changed_type_is_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    new["$defs"]["ConfirmedLine"]["properties"]["quantity"] = {"type": "string"}
    assert incompatibilities(old, new) == ["data.lines[].quantity: type changed from ['integer'] to ['string']"]


def test_a_nullable_property_made_non_nullable_is_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    new["$defs"]["OrderConfirmed"]["properties"]["ship_to"] = {"$ref": "#/$defs/Address"}
    assert incompatibilities(old, new) == ["data.ship_to: type changed from ['null', 'object'] to ['object']"]


def test_a_narrowed_enum_is_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    new["$defs"]["ShippingSpeed"]["enum"].remove("priority")
    assert incompatibilities(old, new) == ['data.shipping_speed: enum narrowed, no longer accepts "priority"']


def test_narrowed_bounds_and_changed_patterns_are_incompatible() -> None:
    old = event_schema(ORDER)
    new = copy.deepcopy(old)
    new["$defs"]["ConfirmedLine"]["properties"]["quantity"]["maximum"] = 10
    new["$defs"]["OrderConfirmed"]["properties"]["currency"]["pattern"] = "^EUR$"
    assert incompatibilities(old, new) == [
        "data.lines[].quantity: maximum narrowed from 100000 to 10",
        "data.currency: pattern changed from '^[A-Z]{3}$' to '^EUR$'",
    ]


def test_write_schemas_refuses_to_overwrite_a_schema_incompatibly(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert {path.stem for path in written} == set(EVENT_TYPES)
    target = tmp_path / f"{ORDER}.json"
    assert target.read_text(encoding="utf-8").endswith("}\n")
    looser = committed(target)
    looser["$defs"]["ShippingSpeed"]["enum"].append("teleport")
    target.write_text(render(looser), encoding="utf-8")
    with pytest.raises(IncompatibleSchema, match="teleport"):
        write_schemas(tmp_path)
    write_schemas(tmp_path, force=True)
    assert committed(target) == event_schema(ORDER)


def test_a_new_rule_across_fields_is_incompatible_and_an_unchanged_one_is_not() -> None:
    old = event_schema("sellerflow.carrier.scan_recorded.v1")
    assert incompatibilities(old, copy.deepcopy(old)) == []
    new = copy.deepcopy(old)
    new["$defs"]["CarrierScanRecorded"]["then"]["required"].append("location")
    assert incompatibilities(old, new) == ["data: rule across fields (then) added or changed"]
