"""Fault injection, configured by a dict / JSON file and changeable at runtime (`/_sim/faults`).

Transport faults consume a counter per request (``count``) or fire with a ``probability``
(drawn from a seeded RNG so a test run is reproducible), optionally only on paths matching
``path_regex``. Data faults change the store: ``insert_head`` adds newer records after each
page of a stream; ``equal_timestamps`` and ``delete_records`` apply once when configured.
"""

from __future__ import annotations

import random
import re
import threading
import time
from typing import Any

TRANSPORT = ("latency", "error_burst", "drop_connection", "truncate_body", "rate_limit_storm")
DATA = ("insert_head", "equal_timestamps", "delete_records")
STREAMS = ("sessions", "audit_logs")
_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "latency": {"ms": (int, float), "count": int, "probability": (int, float), "path_regex": str},
    "error_burst": {"status": int, "count": int, "probability": (int, float), "path_regex": str},
    "drop_connection": {"count": int, "probability": (int, float), "path_regex": str},
    "truncate_body": {"count": int, "probability": (int, float), "path_regex": str},
    "rate_limit_storm": {
        "count": int,
        "retry_after": int,
        "probability": (int, float),
        "path_regex": str,
    },
    "insert_head": {"stream": str, "count": int, "pages": int},
    "equal_timestamps": {"stream": str, "count": int, "timestamp": str},
    "delete_records": {"stream": str, "count": int, "ids": list},
}


class FaultConfigError(ValueError):
    """A fault configuration that names an unknown fault, field or stream."""


def validate(config: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise FaultConfigError("fault configuration must be a JSON object")
    for name, spec in config.items():
        if name not in _FIELDS:
            raise FaultConfigError(f"unknown fault {name!r}; known: {', '.join(_FIELDS)}")
        if not isinstance(spec, dict):
            raise FaultConfigError(f"fault {name!r} must be an object")
        for key, value in spec.items():
            expected = _FIELDS[name].get(key)
            if expected is None:
                raise FaultConfigError(f"fault {name!r}: unknown field {key!r}")
            if not isinstance(value, expected) or isinstance(value, bool):
                raise FaultConfigError(f"fault {name!r}: field {key!r} has the wrong type")
        if name in DATA and spec.get("stream") not in STREAMS:
            raise FaultConfigError(f"fault {name!r}: stream must be one of {', '.join(STREAMS)}")
        if "path_regex" in spec:
            try:
                re.compile(spec["path_regex"])
            except re.error as exc:
                raise FaultConfigError(f"fault {name!r}: invalid path_regex ({exc})") from exc
    return config


class Faults:
    """The live fault state shared by all request threads."""

    def __init__(self, config: dict[str, Any] | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.config: dict[str, dict] = {}
        self.replace(config or {})

    def replace(self, config: dict[str, Any]) -> dict[str, dict]:
        validate(config)
        with self._lock:
            self.config = {k: dict(v) for k, v in config.items()}
            return {k: dict(v) for k, v in self.config.items() if k in DATA}

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            return {k: dict(v) for k, v in self.config.items()}

    def take(self, name: str, path: str) -> dict | None:
        """Whether transport fault ``name`` fires for this request (consuming one count)."""
        with self._lock:
            spec = self.config.get(name)
            if spec is None:
                return None
            if "path_regex" in spec and not re.search(spec["path_regex"], path):
                return None
            if "count" in spec:
                if spec["count"] <= 0:
                    return None
                spec["count"] -= 1
                return dict(spec)
            if self._rng.random() < float(spec.get("probability", 1.0)):
                return dict(spec)
            return None

    def head_inserts(self, stream: str) -> int:
        """How many records to insert after serving a page of ``stream`` (0 = none)."""
        with self._lock:
            spec = self.config.get("insert_head")
            if not spec or spec["stream"] != stream or spec.get("pages", 1) <= 0:
                return 0
            if "pages" in spec:
                spec["pages"] -= 1
            return int(spec.get("count", 1))

    def sleep_latency(self, path: str) -> None:
        spec = self.take("latency", path)
        if spec:
            time.sleep(float(spec.get("ms", 0)) / 1000)
