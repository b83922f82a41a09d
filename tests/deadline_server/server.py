"""A threading HTTP server on 127.0.0.1 that answers Deadline Cloud rest-json requests.

Every request is recorded (operation, parameters, raw body) so tests assert on what
the client really sent. A request the model knows but the fake farm does not handle,
or one the model does not know at all, is logged and answered with a rest-json error
naming it, so a missing operation shows up as a clear failure instead of a hang.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .protocol import (
    ServiceError,
    build_routes,
    error_response,
    load_model,
    match,
    parse_request,
    serialize,
)
from .service import DeadlineState

log = logging.getLogger("deadline_server")


@dataclass(frozen=True)
class Recorded:
    operation: str
    method: str
    path: str
    params: dict[str, Any]
    body: Any
    status: int
    error_code: str | None
    response: Any = None


class DeadlineServer:
    """Owns the HTTP server thread, the farm state and the request log."""

    def __init__(self, bucket: str | None, *, validate_templates: bool = True) -> None:
        self.model = load_model()
        self.routes = build_routes(self.model)
        self.state = DeadlineState(bucket, validate_templates=validate_templates)
        self.requests: list[Recorded] = []
        self.unhandled: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DeadlineServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="deadline-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DeadlineServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- assertions helpers ------------------------------------------------------------

    def calls(self, operation: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if operation is None or r.operation == operation]

    def reset(self) -> None:
        """Forget requests and faults between tests; the farm and its jobs stay."""
        with self._lock:
            self.requests.clear()
            self.unhandled.clear()
        self.state.clear_faults()

    # -- request handling --------------------------------------------------------------

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        found = match(self.routes, method, split.path)
        if found is None:
            message = f"no Deadline Cloud operation answers {method} {split.path}"
            log.warning("deadline_server: %s", message)
            with self._lock:
                self.unhandled.append(f"{method} {split.path}")
            self._record(Recorded("?", method, split.path, {}, None, 404, "UnknownOperation"))
            error = ServiceError("UnknownOperationException", message, status=404)
            return error_response(self.model, error)
        route, labels = found
        operation = route.operation.name
        params: dict[str, Any] = {}
        decoded: Any = None
        try:
            if "authorization" not in {k.lower() for k in headers}:
                raise ServiceError(
                    "UnrecognizedClientException", "request is not signed", status=403
                )
            request = parse_request(route, labels, split.query, headers, body)
            params, decoded = request.params, request.body
            if self.state.on_request is not None:
                self.state.on_request(operation)
            self.state.check_fault(operation)
            handler = self.state.handler(operation)
            if handler is None:
                message = f"stmpo test server does not implement {operation}"
                log.warning("deadline_server: %s", message)
                with self._lock:
                    self.unhandled.append(operation)
                raise ServiceError("NotImplementedByTestServer", message, status=501)
            result = handler(params)
            if self.state.answer_lost(operation):
                raise ServiceError(
                    "InternalServerErrorException", "the answer was lost", status=500
                )
            output = route.operation.output_shape
            payload = serialize(output, result, operation) if output is not None else {}
            status = int(route.operation.http.get("responseCode", 200))
            self._record(
                Recorded(operation, method, split.path, params, decoded, status, None, payload)
            )
            return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
        except ServiceError as exc:
            status, out_headers, out_body = error_response(self.model, exc)
            self._record(Recorded(operation, method, split.path, params, decoded, status, exc.code))
            return status, out_headers, out_body
        except Exception as exc:  # a bug in the fake: make it loud, not a hang
            log.exception("deadline_server: %s failed", operation)
            error = ServiceError("InternalServerErrorException", f"test server bug: {exc!r}")
            status, out_headers, out_body = error_response(self.model, error)
            self._record(Recorded(operation, method, split.path, params, decoded, status, "bug"))
            return status, out_headers, out_body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = server.handle(
                    self.command, self.path, dict(self.headers.items()), body
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("deadline_server: " + format, *args)

        return Handler
