"""The other services' HTTP APIs, called with the signed-in person's own token: the console acts as them."""

from __future__ import annotations

from typing import Any

import httpx

from shared.settings import Settings

TIMEOUT = httpx.Timeout(10.0)


class PeerError(Exception):
    """A peer refused (4xx: its `detail` is for the person) or could not be reached."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


class Peers:
    def __init__(self, settings: Settings, token: str) -> None:
        self._settings, self._headers = settings, {"Authorization": f"Bearer {token}"}

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self._call("GET", service, path, params=params)

    async def post(self, service: str, path: str, body: dict[str, Any], **params: Any) -> Any:
        return await self._call("POST", service, path, json=body, params=params)

    async def _call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        url = self._settings.url_for(service) + path
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, headers=self._headers) as client:
                response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PeerError(503, f"the {service} service cannot be reached ({type(exc).__name__})") from None
        if response.is_success:
            return response.json()
        raise PeerError(response.status_code, _detail(response))


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):  # FastAPI's validation errors: the first message is enough for a person
        detail = "; ".join(str(d.get("msg", d)) for d in detail[:3] if isinstance(d, dict))
    return str(detail or response.reason_phrase)[:300]
