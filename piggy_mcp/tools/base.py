"""What every tool module builds on: toolsets, annotation presets, and access to the shared Piggy API."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from piggy_mcp.audit import note_piggy_error
from piggy_mcp.piggy import PiggyAPI, PiggyError
from piggy_mcp.signing import Signer

P = ParamSpec("P")
R = TypeVar("R")

# The spec's defaults (destructive, not idempotent) are unsafe to rely on: every tool states all four.
READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
IDEMPOTENT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)


@dataclass(frozen=True)
class Runtime:
    """What tools reach through the server's lifespan: the shared Piggy API and the confirmation signer."""

    api: PiggyAPI
    signer: Signer


def runtime(ctx: Context[Any, Any]) -> Runtime:
    state: Runtime = ctx.request_context.lifespan_context
    return state


def api(ctx: Context[Any, Any]) -> PiggyAPI:
    return runtime(ctx).api


class Result(BaseModel):
    """Base of tool outputs: reads Piggy's JSON, keeping only the declared fields.

    Fields without a value are left out of the result: they cost the model tokens and say nothing.
    """

    model_config = ConfigDict(extra="ignore", defer_build=True)

    @model_serializer(mode="wrap")
    def _without_nulls(self, serialize: SerializerFunctionWrapHandler) -> Any:
        data = serialize(self)
        return {key: value for key, value in data.items() if value is not None} if isinstance(data, dict) else data


def tool_error(exc: PiggyError) -> ToolError:
    """A Piggy failure as a tool error the model can read (a plain exception would reach it as a bare
    "Error executing tool"), noted for the audit trail."""
    note_piggy_error(type(exc).__name__, exc.code)
    return ToolError(str(exc))


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    toolset: str
    annotations: ToolAnnotations
    fn: Callable[..., Awaitable[Any]]

    @property
    def description(self) -> str:
        """The docstring, with each paragraph on one line: clients wrap text themselves."""
        paragraphs = inspect.cleandoc(self.fn.__doc__ or "").split("\n\n")
        return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)


@dataclass
class Toolset:
    """A named group of tools from one domain; operators choose which toolsets to serve."""

    name: str
    description: str
    tools: list[ToolSpec] = field(default_factory=list)

    def tool(
        self, *, title: str, annotations: ToolAnnotations
    ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        """Register an async function as a tool of this set; its docstring is the model-facing description."""

        def register(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            @functools.wraps(fn)
            async def call(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return await fn(*args, **kwargs)
                except PiggyError as exc:
                    raise tool_error(exc) from None

            self.tools.append(ToolSpec(fn.__name__, title, self.name, annotations, call))
            return fn

        return register
