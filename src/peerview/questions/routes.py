"""HTTP routes of /api/questions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/questions", tags=["questions"])
