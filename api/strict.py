"""A query parameter the operation does not declare is refused (400 problem), not ignored: a
misspelt filter (`?departmnet=`) would otherwise answer the unfiltered list as if it applied."""

from __future__ import annotations

from functools import wraps

from api import problems


def query_names(operation) -> frozenset[str]:
    """The query parameters `operation` declares (by their names in the URL)."""
    names: set[str] = set()
    for model in operation.models:
        if getattr(model, "__ninja_param_source__", None) == "query":
            names.update(getattr(model, "__ninja_flatten_map__", {}) or model.model_fields)
    return frozenset(names)


def refuse_unknown_query(run):
    """django-ninja "view" decorator: `run` is the bound `Operation.run` of one operation."""
    allowed = query_names(run.__self__)

    @wraps(run)
    def checked(request, *args, **kwargs):
        unknown = sorted(set(request.GET) - allowed)
        if unknown:
            return problems.problem_response(
                400, "Unknown query parameters: " + ", ".join(unknown)[:300], ["unknown_parameter"]
            )
        return run(request, *args, **kwargs)

    return checked
