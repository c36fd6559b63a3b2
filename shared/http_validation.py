"""422 for a request that fails validation, whatever text it carries (design.md section 8).

FastAPI's own 422 echoes each refused `input`: a lone surrogate (`"\\ud800"` in JSON, or the bytes
ED A0 80, which Python's JSON parser lets through) then cannot be encoded and the answer is a 500.
This one never echoes input (it may be buyer data, too) and makes every text it shows encodable.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _encodable(value: Any) -> Any:
    return value.encode("utf-8", "replace").decode("utf-8") if isinstance(value, str) else value


async def validation_failed(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    detail = [{"type": problem["type"], "loc": [_encodable(part) for part in problem["loc"]],
               "msg": _encodable(problem["msg"])} for problem in error.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_failed)
