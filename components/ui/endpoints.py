"""Handlers with the public signature Gradio reads, built from a list of names.

Gradio calls a handler positionally, in the order of its inputs, and reads the handler's
signature for the API page's parameter names, for which ones are optional, and for where
to put the ``gr.Request``. A handler's inputs grow with the declared parameters
(params.SAMPLING), so rather than a hand-written signature per handler, the signature is
made from the names, as Gradio's own ``create_endpoint_fn`` sets ``__signature__``; the
handler receives the arguments by name.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Sequence
from typing import Any

import gradio as gr

_PARAMETER = inspect.Parameter.POSITIONAL_OR_KEYWORD


def endpoint(
    handler: Callable[..., Any], names: Sequence[str], *, optional: Collection[str] = ()
) -> Callable[..., Any]:
    """``handler(**arguments, request=...)`` as Gradio calls it: positionally, in ``names`` order.

    Names in ``optional`` default to "" (an empty box: not set), so API callers may leave them out;
    they must come last, as in any signature.
    """
    parameters = [
        inspect.Parameter(n, _PARAMETER, default="" if n in optional else inspect.Parameter.empty) for n in names
    ]
    parameters.append(inspect.Parameter("request", _PARAMETER, default=None))
    signature = inspect.Signature(parameters)

    def arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.arguments

    if inspect.isasyncgenfunction(handler):

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            async for update in handler(**arguments(args, kwargs)):
                yield update

    elif inspect.iscoroutinefunction(handler):

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await handler(**arguments(args, kwargs))

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return handler(**arguments(args, kwargs))

    functools.update_wrapper(wrapper, handler, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    # Gradio finds the request by its annotation (typing.get_type_hints), not by its name.
    wrapper.__annotations__ = {"request": gr.Request | None}
    return wrapper
