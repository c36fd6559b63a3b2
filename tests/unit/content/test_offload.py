"""Text checks leave the event loop when the text is large (shared/offload.py)."""

from __future__ import annotations

import threading

from shared.offload import INLINE_LIMIT, run_check


def _thread_name() -> str:
    return threading.current_thread().name


async def test_a_small_text_is_checked_on_the_event_loop_thread() -> None:
    assert await run_check(_thread_name, INLINE_LIMIT) == threading.current_thread().name


async def test_a_large_text_is_checked_in_a_worker_thread() -> None:
    assert await run_check(_thread_name, INLINE_LIMIT + 1) != threading.current_thread().name
