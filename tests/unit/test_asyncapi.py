"""The AsyncAPI document committed under docs/asyncapi/ is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from sellerflow import asyncapi
from shared.events import topics

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi" / "sellerflow.json"


def test_the_committed_asyncapi_document_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == asyncapi.build(), "run `sellerflow schemas` and commit docs/"


def test_every_ingress_topic_documents_exactly_the_event_types_it_accepts() -> None:
    document = asyncapi.build()
    schemas = document["components"]["schemas"]
    payload = schemas["ingress.orders:subscribe:Message:Payload"]
    refs = {ref["$ref"].rsplit("/", 1)[-1] for ref in payload["anyOf"]}
    assert refs == {"CheckoutOrderPlacedEvent", "CheckoutCancellationRequestedEvent"}
    for topic in topics.INGRESS_TOPICS:
        assert f"{topic}:subscribe" in document["channels"]
    for topic in topics.INTERNAL_TOPICS:
        assert f"{topic}:publish" in document["channels"]
