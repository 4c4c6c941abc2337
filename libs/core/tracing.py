"""OpenTelemetry tracing. FastStream's NATS telemetry middleware carries the context in NATS headers, so a
span started by the planner continues in the poster that consumes its event."""

from __future__ import annotations

from functools import cache

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from libs.core.settings import CommonSettings


@cache
def _provider(service: str, endpoint: str | None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"xbot-{service}"}))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracer_provider(service: str, settings: CommonSettings) -> TracerProvider:
    provider = _provider(service, settings.otlp_endpoint)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
