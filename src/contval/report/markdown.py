"""Placeholder: the markdown report (being written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def render_markdown(doc: Mapping[str, Any]) -> str:
    return ""
