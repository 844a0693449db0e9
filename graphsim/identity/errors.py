"""The token endpoint's error answer, in Entra ID's shape (AADSTS code, trace and correlation)."""

from __future__ import annotations

import time
import uuid

from starlette.responses import JSONResponse


def oauth_error(sim, status, error, code, description, headers=None) -> JSONResponse:
    trace = str(uuid.uuid4())
    correlation = str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return JSONResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{sim.base}/error?code={code}",
        },
        status_code=status,
        headers=headers,
    )
