"""Contract: every example message in docs/examples/<topic>/ parses on its topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.events import EVENT_TYPES, IngressPayload, parse_event, topics

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*/*.json"))


def test_examples_live_in_folders_named_after_topics() -> None:
    assert EXAMPLES
    assert {path.parent.name for path in EXAMPLES} <= set(topics.ALL_TOPICS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_an_example_parses_on_its_topic(path: Path) -> None:
    event = parse_event(path.read_bytes(), topic=path.parent.name)
    assert type(event.data) is EVENT_TYPES[event.type]


def test_every_ingress_type_has_an_example() -> None:
    shown = {parse_event(path.read_bytes(), topic=path.parent.name).type for path in EXAMPLES}
    ingress = {name for name, cls in EVENT_TYPES.items() if issubclass(cls, IngressPayload)}
    assert ingress - shown == set()
