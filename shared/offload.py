"""CPU-bound checks of seller text off the event loop when the text is large (design.md section 8).

The content rules are linear, but a 100 KB description still takes milliseconds of CPU: run inline,
it would hold up every other request of the service (`/healthz` too). Small texts, by far the most,
run inline: a thread hop costs more than checking them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Characters of text up to which a check runs inline (it takes well under a millisecond).
INLINE_LIMIT = 2_000


async def run_check(check: Callable[P, T], size: int, /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`check(*args, **kwargs)`: inline for `size` up to INLINE_LIMIT characters, else in a worker thread."""
    if size <= INLINE_LIMIT:
        return check(*args, **kwargs)
    return await asyncio.to_thread(check, *args, **kwargs)
