"""JSON Schemas of every event type (the whole envelope with its typed payload), and the check that a
schema change is backward compatible: a new reader still accepts every message the old schema did.

    python -m sellerflow.schemas            # regenerate docs/schemas/ (refuses incompatible changes)
    python -m sellerflow.schemas --force    # overwrite anyway (only with a new major version's plan)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.events import EVENT_TYPES, event_class

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schemas"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
_MAX_DEPTH = 40
_RULES = ("anyOf", "oneOf", "allOf", "if", "then", "else", "not")

Schema = dict[str, Any]


class IncompatibleSchema(ValueError):
    """A regenerated schema would break readers of the committed one."""


def event_schema(event_type: str) -> Schema:
    """The JSON Schema (2020-12) of one event type's message."""
    return {"$schema": _DIALECT, **event_class(event_type).model_json_schema(mode="validation")}


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path, *, force: bool = False) -> list[Path]:
    """Write `<type>.json` for every event type; refuse (unless `force`) to overwrite one incompatibly."""
    out_dir.mkdir(parents=True, exist_ok=True)
    planned = {out_dir / f"{event_type}.json": event_schema(event_type) for event_type in sorted(EVENT_TYPES)}
    problems = [
        f"{path.name}: {problem}"
        for path, schema in planned.items()
        if path.exists() and not force
        for problem in incompatibilities(json.loads(path.read_text(encoding="utf-8")), schema)
    ]
    if problems:
        summary = "incompatible schema changes (bump the type's major version):\n"
        raise IncompatibleSchema(summary + "\n".join(problems))
    for path, schema in planned.items():
        text = render(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return list(planned)


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Why `new` would refuse a message `old` accepted: removed or newly required properties, changed
    types, narrowed enums or bounds, changed patterns. Empty when `new` is backward compatible."""
    problems: list[str] = []
    _compare(old, new, _Roots(old, new), "", problems)
    return problems


class _Roots:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old, self.new = old, new


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Follow local `$ref`s (and one-item `allOf`s), keeping sibling keywords such as `description`."""
    for _ in range(32):
        if "$ref" in schema and str(schema["$ref"]).startswith("#/"):
            target: Any = root
            for part in str(schema["$ref"])[2:].split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            break
    return schema


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object", type(None): "null"}
    return names.get(type(value), "string")


def _types(schema: Schema, root: Schema) -> set[str]:
    """The JSON types a schema accepts; empty for "anything"."""
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            members = [_types(member, root) for member in schema[key]]
            return set() if any(not m for m in members) else set().union(*members)
    if "type" in schema:
        declared = schema["type"]
        return {declared} if isinstance(declared, str) else set(declared)
    if "const" in schema:
        return {_json_type(schema["const"])}
    if "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    return {"object"} if "properties" in schema else set()


def _covers(new: set[str], old: set[str]) -> bool:
    if not new:
        return True
    missing = old - new - ({"integer"} if "number" in new else set())
    return bool(old) and not missing


def _values(schema: Schema) -> set[str] | None:
    if "const" in schema:
        return {json.dumps(schema["const"])}
    if "enum" in schema:
        return {json.dumps(value) for value in schema["enum"]}
    return None


def _compare(old: Schema, new: Schema, roots: _Roots, path: str, problems: list[str]) -> None:
    old, new = _resolve(old, roots.old), _resolve(new, roots.new)
    if path.count(".") + path.count("[") > _MAX_DEPTH:  # a recursive schema: deep enough
        return
    where = path or "(root)"
    old_types, new_types = _types(old, roots.old), _types(new, roots.new)
    if not _covers(new_types, old_types):
        problems.append(f"{where}: type changed from {sorted(old_types) or 'any'} to {sorted(new_types)}")
        return
    old_values, new_values = _values(old), _values(new)
    if new_values is not None and (old_values is None or old_values - new_values):
        lost = sorted(old_values - new_values) if old_values is not None else ["(any value)"]
        problems.append(f"{where}: enum narrowed, no longer accepts {', '.join(lost)}")
    _compare_bounds(old, new, where, problems)
    objects = "properties" in old or "properties" in new  # an object's anyOf/if are rules across its fields
    if not objects and ("anyOf" in old or "oneOf" in old or "anyOf" in new or "oneOf" in new):
        _compare_members(old, new, roots, path, problems)
        return
    for key in _RULES:
        if key in new and new[key] != old.get(key):
            problems.append(f"{where}: rule across fields ({key}) added or changed")
    _compare_object(old, new, roots, path, problems)
    if "items" in old and "items" in new:
        _compare(old["items"], new["items"], roots, f"{path}[]", problems)


def _compare_bounds(old: Schema, new: Schema, where: str, problems: list[str]) -> None:
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            problems.append(f"{where}: {key} narrowed from {old.get(key, 'none')} to {new[key]}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            problems.append(f"{where}: {key} narrowed from {old.get(key, 'none')} to {new[key]}")
    if "pattern" in new and new["pattern"] != old.get("pattern"):
        problems.append(f"{where}: pattern changed from {old.get('pattern', 'none')!r} to {new['pattern']!r}")


def _compare_members(old: Schema, new: Schema, roots: _Roots, path: str, problems: list[str]) -> None:
    """Pair each old union member with a new member accepting its types (same title preferred)."""
    new_members = new.get("anyOf") or new.get("oneOf") or [new]
    for member in old.get("anyOf") or old.get("oneOf") or [old]:
        wanted = _types(member, roots.old)
        title = _resolve(member, roots.old).get("title")
        candidates = [m for m in new_members if _covers(_types(m, roots.new), wanted)]
        if candidates:
            titled = [m for m in candidates if _resolve(m, roots.new).get("title") == title]
            _compare(member, (titled or candidates)[0], roots, path, problems)


def _compare_object(old: Schema, new: Schema, roots: _Roots, path: str, problems: list[str]) -> None:
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    prefix = f"{path}." if path else ""
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"{prefix}{name}: property removed")
        else:
            _compare(schema, new_props[name], roots, f"{prefix}{name}", problems)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{prefix}{name}: property newly required")
    newly_closed = new.get("additionalProperties") is False and old.get("additionalProperties") is not False
    if newly_closed and old_props:
        problems.append(f"{path or '(root)'}: unknown properties newly refused")


def main(argv: list[str]) -> int:
    try:
        written = write_schemas(SCHEMA_DIR, force="--force" in argv)
    except IncompatibleSchema as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{len(written)} schemas in {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
