"""The Deadline Cloud rest-json wire protocol, read from botocore's own service model.

Routing comes from each operation's `http.requestUri` and method, request parsing from
the input shape's member locations (uri, querystring, header, body), and responses
are serialized against the output shape, so the server answers exactly what the real
client parses. Nothing here is hand-copied from the API reference.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

#: Errors any AWS API can answer that are not in the service model.
_AWS_WIDE_STATUS = {
    "ExpiredTokenException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignature": 400,
}
_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


class ServiceError(Exception):
    """A modeled (or AWS-wide, like ExpiredTokenException) error to send back."""

    def __init__(self, code: str, message: str, status: int | None = None, **fields: Any):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    literal_length: int


@dataclass
class ParsedRequest:
    operation: str
    params: dict[str, Any]
    body: Any


def load_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("deadline")


def _route(op: OperationModel) -> Route:
    uri = op.http["requestUri"].split("?", 1)[0]
    regex = ""
    pos = 0
    for match in _LABEL.finditer(uri):
        regex += re.escape(uri[pos : match.start()])
        greedy = match.group(2) == "+"
        regex += f"(?P<{match.group(1)}>{'.+' if greedy else '[^/]+'})"
        pos = match.end()
    regex += re.escape(uri[pos:])
    literal = len(_LABEL.sub("", uri))
    return Route(op, op.http["method"].upper(), re.compile(f"^{regex}/?$"), literal)


def build_routes(model: ServiceModel) -> list[Route]:
    """Most literal routes first, so `/jobs/search` would win over `/jobs/{jobId}`."""
    routes = [_route(model.operation_model(name)) for name in model.operation_names]
    return sorted(routes, key=lambda r: -r.literal_length)


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def _coerce(shape: Shape, raw: str) -> Any:
    if shape.type_name in ("integer", "long"):
        return int(raw)
    if shape.type_name in ("float", "double"):
        return float(raw)
    if shape.type_name == "boolean":
        return raw.lower() == "true"
    return raw


def _length(shape: Shape, value: Any) -> int | None:
    if shape.type_name == "string" and isinstance(value, str):
        return len(value)  # Smithy @length counts Unicode code points, as `len` does
    if shape.type_name in ("list", "map") and isinstance(value, (list, dict)):
        return len(value)
    return None


def check_constraints(shape: Shape, value: Any, where: str) -> list[tuple[str, str]]:
    """What the service's field validation refuses in `value`: `(field, message)` pairs.

    The service model carries Smithy traits as shape metadata: `min`/`max` (@length on
    strings, lists and maps, @range on numbers), `enum`, `pattern` and unions (exactly
    one member set). botocore checks only `min` before sending (its ParamValidator's
    `range_check` looks at `min` alone), so a `max`, an enum value or a pattern the
    client does not catch reaches the service, which answers ValidationException
    (reason FIELD_VALIDATION_FAILED, one `fieldList` entry per field). Smithy patterns
    are not implicitly anchored, hence `re.search`.
    """
    meta = shape.metadata
    problems: list[tuple[str, str]] = []
    size = _length(shape, value)
    if size is not None:
        if "min" in meta and size < meta["min"]:
            problems.append((where, f"length {size} is below the minimum of {meta['min']}"))
        if "max" in meta and size > meta["max"]:
            problems.append((where, f"length {size} exceeds the maximum of {meta['max']}"))
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        if "min" in meta and value < meta["min"]:
            problems.append((where, f"{value} is below the minimum of {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            problems.append((where, f"{value} exceeds the maximum of {meta['max']}"))
    if shape.type_name == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None) or meta.get("enum")
        if enum and value not in enum:
            problems.append((where, f"{value!r} is not one of {', '.join(enum)}"))
        if "pattern" in meta and re.search(meta["pattern"], value) is None:
            problems.append((where, f"does not match the pattern {meta['pattern']}"))
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        if meta.get("union") and len(value) != 1:
            problems.append((where, "a union takes exactly one member"))
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None:
                problems += check_constraints(member, item, f"{where}.{name}" if where else name)
    elif shape.type_name == "list" and isinstance(value, list):
        member = shape.member  # type: ignore[attr-defined]
        for index, item in enumerate(value):
            problems += check_constraints(member, item, f"{where}[{index}]")
    elif shape.type_name == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            problems += check_constraints(shape.key, key, f"{where} key")  # type: ignore[attr-defined]
            problems += check_constraints(shape.value, item, f"{where}.{key}")  # type: ignore[attr-defined]
    return problems


def parse_request(
    route: Route,
    labels: Mapping[str, str],
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> ParsedRequest:
    """Collect the input members from where the model says they travel; check required ones."""
    op = route.operation
    shape = op.input_shape
    params: dict[str, Any] = {}
    decoded: Any = None
    if body:
        try:
            decoded = json.loads(body)
        except ValueError:
            raise ServiceError("SerializationException", "request body is not JSON") from None
    if shape is None:
        return ParsedRequest(op.name, params, decoded)
    assert isinstance(shape, StructureShape)
    query_values = parse_qs(query, keep_blank_values=True)
    lower_headers = {k.lower(): v for k, v in headers.items()}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = _coerce(member, labels[wire_name])
        elif location == "querystring":
            if wire_name in query_values:
                values = query_values[wire_name]
                params[name] = values if member.type_name == "list" else _coerce(member, values[0])
        elif location == "header":
            if wire_name.lower() in lower_headers:
                params[name] = _coerce(member, lower_headers[wire_name.lower()])
        elif isinstance(decoded, dict) and name in decoded:
            params[name] = decoded[name]
    missing = [name for name in shape.required_members if name not in params]
    if missing:
        raise ServiceError(
            "ValidationException",
            f"{op.name}: missing required member(s) {', '.join(missing)}",
            reason="FIELD_VALIDATION_FAILED",
        )
    problems = check_constraints(shape, params, "")
    if problems:
        raise ServiceError(
            "ValidationException",
            f"{op.name}: " + "; ".join(f"{name}: {message}" for name, message in problems),
            reason="FIELD_VALIDATION_FAILED",
            fieldList=[{"name": name, "message": message} for name, message in problems],
        )
    return ParsedRequest(op.name, params, decoded)


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


def serialize(shape: Shape, value: Any, where: str) -> Any:
    """Output value -> JSON the client parses; a missing required member is a server bug."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            raise TypeError(f"{where}: expected an object for {shape.name}")
        missing = [m for m in shape.required_members if m not in value]
        if missing:
            raise TypeError(f"{where}: response lacks required {', '.join(missing)}")
        out = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                raise TypeError(f"{where}: {shape.name} has no member {name}")
            if member.serialization.get("location"):
                continue
            out[name] = serialize(member, item, f"{where}.{name}")
        return out
    if kind == "list":
        return [serialize(shape.member, v, f"{where}[]") for v in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {
            str(k): serialize(shape.value, v, f"{where}.{k}")  # type: ignore[attr-defined]
            for k, v in value.items()
        }
    if kind == "timestamp":
        return _timestamp(value)
    return value


def error_response(model: ServiceModel, error: ServiceError) -> tuple[int, dict[str, str], bytes]:
    """Status from the error shape's `httpStatusCode`; the code in `X-Amzn-ErrorType`."""
    status = error.status
    fields: dict[str, Any] = {"message": error.message, **error.fields}
    try:
        shape = model.shape_for(error.code)
    except Exception:
        shape = None
    if shape is not None and isinstance(shape, StructureShape):
        status = status or int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        for name in shape.required_members:
            fields.setdefault(name, _default_error_field(name))
    status = status or _AWS_WIDE_STATUS.get(error.code)
    headers = {
        "Content-Type": "application/json",
        "X-Amzn-ErrorType": error.code,
        "X-Amzn-RequestId": "stmpo-test",
    }
    return status or 400, headers, json.dumps(fields).encode()


def _default_error_field(name: str) -> str:
    return {
        "reason": "OTHER",
        "resourceType": "job",
        "resourceId": "unknown",
        "serviceCode": "deadline",
        "quotaCode": "L-TEST",
    }.get(name, "")
