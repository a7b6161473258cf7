"""Validate a workflow against GitHub's own workflow schema (vendored, see schemas/README.md).

The schema is not JSON Schema but the template-schema format GitHub's parser reads: each
definition is a `mapping` (properties, loose keys), a `sequence`, a `one-of`, a `string`
(constant, non-empty), `allowed-values`, `boolean`, `number` or `null`; `context` lists the
expression contexts allowed there. Scalars are read as GitHub reads them: a number or boolean
where a string is expected is taken as its text, and a `${{ }}` expression is accepted for any
type wherever a context allows expressions (it is evaluated at run time).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "github-workflow-v1.0.json").read_text())
DEFINITIONS: dict[str, dict[str, Any]] = SCHEMA["definitions"]


def workflow_errors(workflow: dict[Any, Any]) -> list[str]:
    """Every problem found, as `path: message`; empty when GitHub's schema accepts it."""
    document = {("on" if key is True else key): value for key, value in workflow.items()}
    return _check(document, "workflow-root-strict", "$", expressions=False)


BUILT_IN: dict[str, dict[str, Any]] = {
    "null": {"null": {}},
    "boolean": {"boolean": {}},
    "number": {"number": {}},
    "string": {"string": {}},
    "sequence": {"sequence": {"item-type": "any"}},
    "mapping": {"mapping": {"loose-key-type": "string", "loose-value-type": "any"}},
    "any": {"one-of": ["null", "boolean", "number", "string", "sequence", "mapping"]},
}
"""The schema's own kinds, which it names without defining."""


def _check(value: Any, name: str, where: str, expressions: bool) -> list[str]:
    definition = DEFINITIONS.get(name) or BUILT_IN[name]
    expressions = expressions or "context" in definition
    if expressions and isinstance(value, str) and "${{" in value:
        return []
    if "one-of" in definition:
        attempts = [_check(value, option, where, expressions) for option in definition["one-of"]]
        if any(not errors for errors in attempts):
            return []
        closest = min(attempts, key=len)  # the option that came nearest, for the message
        return [f"{where}: matches none of {definition['one-of']}; nearest: {closest[0]}"]
    if "mapping" in definition:
        return _mapping(value, definition["mapping"], where, expressions)
    if "sequence" in definition:
        if not isinstance(value, list):
            return [f"{where}: expected a sequence ({name})"]
        item = definition["sequence"]["item-type"]
        return [
            error
            for i, entry in enumerate(value)
            for error in _check(entry, item, f"{where}[{i}]", expressions)
        ]
    return _scalar(value, definition, name, where)


def _mapping(value: Any, mapping: dict[str, Any], where: str, expressions: bool) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected a mapping"]
    errors: list[str] = []
    properties = mapping.get("properties", {})
    for key, item in value.items():
        path = f"{where}.{key}"
        if key in properties:
            spec = properties[key]
            kind = spec if isinstance(spec, str) else spec["type"]
            errors += _check(item, kind, path, expressions)
        elif "loose-key-type" in mapping:
            errors += _check(key, mapping["loose-key-type"], path, expressions)
            errors += _check(item, mapping["loose-value-type"], path, expressions)
        else:
            errors.append(f"{path}: unexpected key (expected one of {sorted(properties)})")
    for key, spec in properties.items():
        if isinstance(spec, dict) and spec.get("required") and key not in value:
            errors.append(f"{where}: required key `{key}` is missing")
    return errors


def _scalar(value: Any, definition: dict[str, Any], name: str, where: str) -> list[str]:
    if "allowed-values" in definition:
        ok = value in definition["allowed-values"]
    elif "string" in definition:
        rules = definition["string"]
        text = str(value).lower() if isinstance(value, bool) else value
        ok = isinstance(text, str | int | float) and not (
            ("constant" in rules and text != rules["constant"])
            or (rules.get("require-non-empty") and not str(text))
        )
    elif "boolean" in definition:
        ok = isinstance(value, bool)
    elif "number" in definition:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif "null" in definition:
        ok = value is None
    else:
        raise AssertionError(f"unknown kind of definition {name}: {sorted(definition)}")
    return [] if ok else [f"{where}: {value!r} is not a valid {name}"]
