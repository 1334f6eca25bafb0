"""Errors of the code pad. The HTTP routes answer the sessions' own errors; these codes are the
socket events' refusals (docs/api.md §8.2), carried as errors so they keep their code."""

from peerview.errors import AppError


class MalformedUpdate(AppError):
    status = 422
    code = "MALFORMED_UPDATE"
    title = "The update is not a Yjs update of the code text, or builds on edits not stored"


class UpdateTooLarge(AppError):
    status = 413
    code = "UPDATE_TOO_LARGE"
    title = "The update is larger than CODE_MAX_UPDATE_BYTES"


class CodeTooLarge(AppError):
    status = 413
    code = "CODE_TOO_LARGE"
    title = "The code would be larger than CODE_MAX_BYTES"
