"""The one error type the API raises, so every failure leaves as the same JSON shape."""

from __future__ import annotations


class ApiError(Exception):
    """An error with an HTTP status and a stable UPPER_SNAKE code for clients to branch on."""

    def __init__(self, status: int, code: str, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "retryable": self.retryable}}


class ValidationError(ApiError):
    def __init__(self, message: str, code: str = "VALIDATION_ERROR"):
        super().__init__(422, code, message)
