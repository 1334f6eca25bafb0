"""Shapes of the code pad: its REST answer and body, and its Socket.IO messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from peerview.models.enums import CodeLanguage
from peerview.schemas import InputModel, Output

SESSION_ID = Field(min_length=1, max_length=64)


class CodeRead(Output):
    session_id: str
    language: CodeLanguage
    text: str
    updated_at: datetime | None


class CodeLanguageUpdate(InputModel):
    language: CodeLanguage


# Socket.IO (docs/api.md §8.2). Binary Yjs data travels as standard base64; its decoded size
# is judged by the handler (UPDATE_TOO_LARGE), the message's by SOCKET_MAX_MESSAGE_BYTES.


class CodeSyncIn(InputModel):
    session_id: str = SESSION_ID
    state_vector: str = Field(max_length=65536)


class CodeUpdateIn(InputModel):
    session_id: str = SESSION_ID
    update: str


class CodeAwarenessIn(InputModel):
    session_id: str = SESSION_ID
    update: str
