"""Shapes of the Socket.IO messages clients send."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from peerview.schemas import InputModel

SignalType = Literal["offer", "answer", "ice-candidate"]


class JoinIn(InputModel):
    session_id: str = Field(min_length=1, max_length=64)


class SignalIn(InputModel):
    session_id: str = Field(min_length=1, max_length=64)
    type: SignalType
    # An SDP description ({type, sdp}) or an ICE candidate; relayed as it came.
    data: dict[str, Any] | str | None = None
