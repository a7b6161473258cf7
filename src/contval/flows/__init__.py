"""contval.flows: the flow runtime — templates, requests, checks, extraction, think time,
polling for asynchronous system flows, and data feeders.

`compile_program(suite, ...)` builds an immutable `Program` once per worker; `program.bind(client,
recorder)` returns the `FlowRunner` whose `run(flow, due)` performs one iteration. See
docs/flows.md for the semantics.
"""

from contval.flows.compiler import compile_program
from contval.flows.feeders import FeederExhausted
from contval.flows.jsonpath import JsonPath, parse_path
from contval.flows.ops import CompiledFlow
from contval.flows.program import Program
from contval.flows.runner import FlowRunner
from contval.flows.script import Stop

__all__ = [
    "CompiledFlow",
    "FeederExhausted",
    "FlowRunner",
    "JsonPath",
    "Program",
    "Stop",
    "compile_program",
    "parse_path",
]
