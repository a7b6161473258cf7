"""Finding the function of a `python: module:function` step, for validation and for workers.

The module is looked up in the suite file's folder first, then on `sys.path`. Validation imports
it (a python step is code: validating a suite that has one runs its module's top level) and
checks the function can take the one argument it is given; a worker imports it again by the same
module path, so what travels with the suite is the name and the folder, never a function object
(a Ray worker on another node needs the module at the same path, or installed). Validation
without importing (`--no-python`, for a suite from an untrusted source) checks only the form of
the reference (`check_ref`): nothing of the module is found, read or run.

Every problem is a `ValueError` whose message names the fix; nothing the module does at import
escapes as anything else.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from importlib.machinery import PathFinder
from pathlib import Path
from types import ModuleType
from typing import Final

from contval.spec.errors import did_you_mean

FUNCTION_REF: Final = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
"""`module:function` or `package.module:function`."""

Script = Callable[..., object]


class _Refused(ValueError):
    """A refusal of ours while importing (never the module's own ValueError)."""


def check_ref(ref: str) -> tuple[str, str]:
    """The module and function names of `ref`, without importing anything; `ValueError` when
    it is not `module:function`."""
    if not FUNCTION_REF.match(ref):
        raise ValueError(
            f"`{ref[:100]}` is not `module:function` (e.g. `signing:sign` for the function"
            " `sign` in `signing.py` next to the suite file)"
        )
    module_name, name = ref.split(":")
    return module_name, name


def import_function(ref: str, folder: Path | None) -> Script:
    """The function `ref` names, its module found in `folder` first; `ValueError` saying why not."""
    module_name, name = check_ref(ref)
    module = _import(module_name, folder)
    found = getattr(module, name, None)
    if found is None:
        functions = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        hint = did_you_mean(name, functions)
        raise ValueError(f"module `{module_name}` has no function `{name}`{hint}")
    if not callable(found):
        raise ValueError(f"`{ref}` is of type {type(found).__name__}, not a function")
    function: Script = found
    _check_signature(ref, function)
    return function


def _check_signature(ref: str, function: Script) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin without a signature: it will be called as is
    try:
        signature.bind(None)
    except TypeError:
        name = ref.split(":")[1]
        raise ValueError(
            f"`{ref}` takes {signature}; a python step's function takes one argument, the"
            f" iteration's variables: `def {name}(variables):` (or `async def`)"
        ) from None


def _import(name: str, folder: Path | None) -> ModuleType:
    top = name.split(".", maxsplit=1)[0]
    spec = PathFinder.find_spec(top, [str(folder)]) if folder is not None else None
    try:
        if spec is not None:
            _load_top(top, spec, folder)
        return importlib.import_module(name)
    except _Refused:
        raise
    except ModuleNotFoundError as exc:
        missing = exc.name
        if missing is not None and (name == missing or name.startswith(missing + ".")):
            where = f"the suite's folder ({folder}) or " if folder is not None else ""
            raise ValueError(
                f"no module `{missing}` in {where}sys.path; put `{missing.split('.')[-1]}.py`"
                " next to the suite file"
            ) from None
        raise ValueError(f"module `{name}` does not import: {_said(exc)}") from None
    except (Exception, SystemExit) as exc:  # whatever the module's top level does
        raise ValueError(f"module `{name}` does not import: {_said(exc)}") from None


def _load_top(top: str, spec: importlib.machinery.ModuleSpec, folder: Path | None) -> None:
    """Load the suite folder's module `top` (again if another folder's module had the name)."""
    loaded = sys.modules.get(top)
    if loaded is not None:
        if getattr(loaded, "__file__", None) == spec.origin:
            return
        if not _from_a_suite(loaded):
            raise _Refused(
                f"`{top}` in the suite's folder ({folder}) has the name of the module `{top}`"
                " Python already uses; rename the file"
            )
        for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
            del sys.modules[key]
    module = importlib.util.module_from_spec(spec)
    module.__dict__[_MARK] = True
    sys.modules[top] = module
    try:
        assert spec.loader is not None
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(top, None)
        raise


_MARK: Final = "__contval_suite_module__"
"""Set on a module loaded from a suite's folder, so another suite's module may replace it."""


def _from_a_suite(module: ModuleType) -> bool:
    return bool(module.__dict__.get(_MARK))


def _said(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
