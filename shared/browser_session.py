"""Sign-in for the HTML pages a service serves (design.md section 8).

A POST form turns a bearer token into an HttpOnly, SameSite=Strict cookie scoped to the pages' path,
so a token is never in a URL (browser history, proxy logs, Referer). Every page goes out with
`PAGE_HEADERS`. The dashboard uses it; any later set of pages (a seller console) can mount its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.auth import InvalidToken, Principal, token_keys, verify_token
from shared.http_guard import json_errors

#: Pages are never cached, never framed, never leak their address, and load nothing from elsewhere.
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
MAX_FORM_BYTES = 16 * 1024
HTML_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "Not signed in, or the token is invalid or expired: the sign-in page",
          "content": {"text/html": {}}},
    403: {"description": "Signed in as another seller, or a form from another site: the sign-in page",
          "content": {"text/html": {}}},
}


def page(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


@dataclass(frozen=True)
class BrowserSignIn:
    """Sign-in, sign-out and the signed-in principal for the pages under `path`."""

    path: str  # e.g. "/dashboard": the cookie's path, and where the forms post
    #: The sign-in page: (where to go after signing in, an error to show) -> HTML.
    sign_in_page: Callable[[str, str], str]
    cookie: str = "sellerflow_session"

    def principal(self, request: Request) -> Principal | None:
        """Who the session cookie names; None without one, or with an invalid or expired one."""
        token = request.cookies.get(self.cookie)
        if not token:
            return None
        try:
            return verify_token(token_keys(request), token)
        except InvalidToken:
            return None

    def ask(self, next_path: str, error: str = "", status_code: int = 401) -> HTMLResponse:
        return page(self.sign_in_page(self.within(next_path), error), status_code)

    def within(self, next_path: str) -> str:
        """`next_path` if it is one of these pages, else the pages' root: never a redirect elsewhere."""
        parts = urlsplit(next_path)
        inside = not parts.scheme and not parts.netloc and parts.path.startswith(self.path + "/")
        return parts.path if inside and "\\" not in parts.path else self.path

    def page_path(self, *segments: str) -> str:
        return "/".join([self.path, *(quote(s, safe="") for s in segments)])

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post(f"{self.path}/sign-in", response_class=Response, status_code=303,
                     summary="Sign in with a token (form field `token`): sets the session cookie",
                     responses={303: {"description": "Signed in: on to the page asked for"}, **HTML_RESPONSES,
                                **json_errors(413, 422)})
        async def sign_in(request: Request) -> Response:
            form = await self._form(request)
            if form is None:
                return self.ask(self.path, "Sign in from this site's own page.", 403)
            next_path, token = form.get("next", self.path), form.get("token", "")
            try:
                verify_token(token_keys(request), token)
            except InvalidToken:
                return self.ask(next_path, "That token is not valid, or it has expired.")
            response = RedirectResponse(self.within(next_path), status_code=303, headers=PAGE_HEADERS)
            response.set_cookie(self.cookie, token, path=self.path, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
            return response

        @router.post(f"{self.path}/sign-out", response_class=Response, status_code=303,
                     summary="Sign out: the session cookie is dropped",
                     responses={303: {"description": "Signed out: on to the sign-in page"}, **json_errors(413, 422)})
        async def sign_out(request: Request) -> Response:
            response = RedirectResponse(self.path, status_code=303, headers=PAGE_HEADERS)
            response.delete_cookie(self.cookie, path=self.path, httponly=True, samesite="strict",
                                   secure=request.url.scheme == "https")
            return response

        return router

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The form's fields (first value of each); None for a form posted from another site."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            return None  # login CSRF: someone else's site signing the browser in as someone else
        body = await request.body()
        text = body[:MAX_FORM_BYTES].decode("utf-8", errors="replace")
        try:
            fields = parse_qs(text, max_num_fields=10)
        except ValueError:  # too many fields: not our form
            return {}
        return {name: values[0] for name, values in fields.items() if values}
