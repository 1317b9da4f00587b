"""Population health pages and API (to be filled in)."""

from fastapi import APIRouter

router = APIRouter()
