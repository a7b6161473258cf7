"""The suite's JSON Schema, so editors (e.g. the YAML language server) can complete and check it."""

from __future__ import annotations

import json
from typing import Any

from contval.spec.models import Suite

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def suite_json_schema() -> dict[str, Any]:
    """The JSON Schema of a suite file, as pydantic derives it from the models (input form)."""
    schema = Suite.model_json_schema(mode="validation", by_alias=True)
    return {"$schema": SCHEMA_DIALECT, "title": "contval suite", **schema}


def suite_json_schema_text() -> str:
    """The schema as stable, indented JSON text (sorted keys make diffs reviewable)."""
    return json.dumps(suite_json_schema(), indent=2, sort_keys=True, ensure_ascii=False)
