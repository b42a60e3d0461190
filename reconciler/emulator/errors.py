"""The one exception handlers raise to answer with an error status and `{"error": ...}`."""

from __future__ import annotations


class ApiError(Exception):
    """An API error response. The message is shown to clients, so it never holds a token."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def precondition_failed(message: str) -> ApiError:
    return ApiError(412, message)


def unsupported_media(message: str) -> ApiError:
    return ApiError(415, message)
