"""Prometheus metrics for operators: HTTP requests, prediction outcomes and latency, one replica each, at /metrics.

Every series carries a `replica` label (host:port of the process), so replicas scraped through one
endpoint, or summed on a dashboard, stay apart. The default registry also holds prometheus_client's own
process_* series (CPU seconds, resident memory) for the same process.
"""
from __future__ import annotations

import functools
import time
from typing import Any, Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "digits_http_requests", "HTTP requests answered, by kind of route and status code", ["replica", "route", "status"]
)
PREDICTIONS = Counter(
    "digits_predictions",
    "Pictures read, by outcome: ok; why no number (empty, not_a_digit, ...); invalid_image (the user's fault); error (ours)",
    ["replica", "outcome"],
)
PREDICT_SECONDS = Histogram(
    "digits_predict_seconds",
    "Time to read one picture (decode, find the ink, model), in the serving thread",
    ["replica"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)

# Path prefix -> route label. Only these few values, so an event id or file name never becomes a series.
ROUTES = (
    ("/metrics", "metrics"),
    ("/gradio_api/upload", "upload"),
    ("/gradio_api/queue/join", "queue_join"),
    ("/gradio_api/queue/data", "queue_stream"),
    ("/gradio_api/call/", "call"),
    ("/gradio_api/file=", "file"),
    ("/gradio_api/heartbeat/", "heartbeat"),
    ("/config", "config"),
    ("/gradio_api/info", "info"),
)

replica = "unnamed"  # set by serve_metrics


def route_of(path: str) -> str:
    """A request path -> one of a few route labels ("page" for /, "other" for assets and the rest)."""
    if path == "/":
        return "page"
    return next((label for prefix, label in ROUTES if path.startswith(prefix)), "other")


def outcome_of(result: Any) -> str:
    """A Reading or Prediction -> "ok", or why it holds no answer ("empty", "not_a_digit", "too_many_pieces")."""
    reason = getattr(result, "reason", None)
    if reason:
        return str(reason).replace(" ", "_")
    return "empty" if getattr(result, "label", 0) is None and getattr(result, "number", 0) is None else "ok"


def observe_predict(predict: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a recognizer's predict (or read) so each call is timed and counted by outcome; what it returns or raises is unchanged."""

    @functools.wraps(predict)
    def observed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = predict(*args, **kwargs)
            outcome = outcome_of(result)
            return result
        except ValueError:  # digitcore.InvalidImage: a picture the user gave that cannot be read
            outcome = "invalid_image"
            raise
        finally:
            PREDICT_SECONDS.labels(replica).observe(time.perf_counter() - started)
            PREDICTIONS.labels(replica, outcome).inc()

    return observed


def observe(recognizer: Any) -> None:
    """Time and count every call of the recognizer's read and predict (those it has), once however often it is asked."""
    for name in ("read", "predict"):
        method = getattr(recognizer, name, None)
        if method is not None and not hasattr(method, "__wrapped__"):
            setattr(recognizer, name, observe_predict(method))


class RequestCounter:
    """ASGI middleware: counts every HTTP response by route and status (500 if the app failed before answering)."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = []

        async def send_counting(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                HTTP_REQUESTS.labels(replica, route_of(scope["path"]), str(message["status"])).inc()
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        except Exception:
            if not status:
                HTTP_REQUESTS.labels(replica, route_of(scope["path"]), "500").inc()
            raise


async def metrics_page(request: Any) -> Any:
    """GET /metrics: every series in Prometheus's text format."""
    from starlette.responses import Response

    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def serve_metrics(name: str) -> dict[str, Any]:
    """Name this replica and return Gradio launch()'s app_kwargs that add /metrics and the request counter to its app."""
    global replica
    from starlette.middleware import Middleware
    from starlette.routing import Route

    replica = name
    # FastAPI(routes=...) puts /metrics ahead of every route Gradio adds later.
    return {"routes": [Route("/metrics", metrics_page, methods=["GET"])], "middleware": [Middleware(RequestCounter)]}
