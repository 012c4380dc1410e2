"""The OpenTelemetry SDK of the test process, for the telemetry tests of both worlds.

The global tracer and meter providers can be set once per process: the first telemetry test
sets an SDK provider of each with in-memory exporters (spans: InMemorySpanExporter through a
SimpleSpanProcessor; metrics: InMemoryMetricReader with delta temporality), and every test
clears them at its start (:func:`fresh`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Otel:
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer: Any

    def spans(self, name: str | None = None) -> list[Any]:
        found = list(self.exporter.get_finished_spans())
        return [s for s in found if name is None or s.name == name]

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """name -> [(attributes, value)] since the last call (delta temporality): a counter
        point's value is its sum, a histogram's its (count, sum)."""
        out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        data = self.reader.get_metrics_data()
        if data is None:
            return out
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points: Any = metric.data.data_points
                    for point in points:
                        value: Any = (
                            (point.count, point.sum)
                            if hasattr(point, "count")
                            else getattr(point, "value", None)
                        )
                        out.setdefault(metric.name, []).append((dict(point.attributes), value))
        return out

    def total(self, collected: dict[str, list[tuple[dict[str, Any], Any]]], name: str) -> int:
        """The sum of a counter's points, or the count of a histogram's."""
        total = 0
        for _, value in collected.get(name, []):
            total += value[0] if isinstance(value, tuple) else value
        return int(total)


_otel: Otel | None = None


def otel() -> Otel:
    global _otel
    if _otel is None:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        reader = InMemoryMetricReader(
            preferred_temporality={
                Counter: AggregationTemporality.DELTA,
                Histogram: AggregationTemporality.DELTA,
            }
        )
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        _otel = Otel(exporter, reader, trace.get_tracer("tests"))
    return _otel


def fresh() -> Iterator[Otel]:
    """A fixture body: the process's in-memory exporters, emptied."""
    found = otel()
    found.exporter.clear()
    found.metrics()  # drain what earlier tests recorded
    yield found


def every_value(span: ReadableSpan) -> Iterator[str]:
    """Every string a span carries: name, attribute keys and values, events, links, status."""
    yield span.name
    for key, value in (span.attributes or {}).items():
        yield key
        yield str(value)
    for event in span.events:
        yield event.name
        for key, value in (event.attributes or {}).items():
            yield key
            yield str(value)
    for link in span.links:
        for key, value in (link.attributes or {}).items():
            yield key
            yield str(value)
    yield str(span.status.description)
