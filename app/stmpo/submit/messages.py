"""Any failure of a submission -> one line an artist or a CI log can act on.

botocore, the deadline library and job attachments raise many exception types, some
wrapping others and some with multi-line messages. This maps them to one sentence,
naming the AWS operation when there is one, and says whether the input was at fault
(fix the export or the arguments) or the service/environment (credentials, access,
throttling), which decides the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stmpo.errors import StmpoError

Kind = Literal["input", "service"]

_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AuthFailure",
    }
)
_THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
    }
)
_MAX_LENGTH = 600


@dataclass(frozen=True)
class Failure:
    kind: Kind
    message: str


def one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_LENGTH else flat[: _MAX_LENGTH - 1] + "…"


def describe_client_error(code: str, message: str, operation: str) -> str:
    """A modeled AWS error (code, message, operation) -> a sentence with a next step."""
    op = f" ({operation})" if operation else ""
    message = one_line(message) or code
    if code in _CREDENTIAL_CODES:
        return (
            f"AWS credentials are expired or not valid{op}: {message}; log in again with "
            "Deadline Cloud monitor or `deadline auth login`, or pass --profile"
        )
    if code.startswith("AccessDenied") or code in ("Forbidden", "UnauthorizedOperation"):
        return f"access denied{op}: {message}; ask for access to this farm and queue"
    if code in _THROTTLING_CODES:
        return f"Deadline Cloud is throttling requests{op}: {message}; try again in a minute"
    if code == "ValidationException":
        return f"Deadline Cloud rejected the request{op}: {message}"
    if code in ("ResourceNotFoundException", "NoSuchBucket"):
        return f"not found{op}: {message}; check the farm and queue IDs"
    if code == "ServiceQuotaExceededException":
        return f"a service quota is exhausted{op}: {message}"
    if code in ("InternalServerErrorException", "InternalServerException", "InternalError"):
        return f"Deadline Cloud had an internal error{op}: {message}; try again"
    return f"{code}{op}: {message}"


def describe(exc: BaseException) -> Failure:
    """Classify and word an exception; never raises, never returns more than one line."""
    from botocore import exceptions as bx

    if isinstance(exc, StmpoError):
        # The export is named wherever the message is shown; keep only what is wrong.
        return Failure("input", StmpoError(exc.problems).render())
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        text = str(error.get("Message") or "")
        return Failure("service", describe_client_error(code, text, exc.operation_name))
    if isinstance(exc, bx.NoCredentialsError):
        return Failure(
            "service",
            "no AWS credentials found: log in with Deadline Cloud monitor or "
            "`deadline auth login`, or pass --profile",
        )
    if isinstance(exc, bx.ProfileNotFound):
        return Failure("input", f"--profile: {one_line(str(exc))}")
    if isinstance(
        exc,
        (
            bx.TokenRetrievalError,
            bx.SSOTokenLoadError,
            bx.UnauthorizedSSOTokenError,
            bx.CredentialRetrievalError,
        ),
    ):
        return Failure(
            "service",
            f"your AWS login has expired ({one_line(str(exc))}); log in again with "
            "Deadline Cloud monitor or `deadline auth login`",
        )
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectionClosedError)):
        return Failure("service", f"cannot reach AWS: {one_line(str(exc))}")
    if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return Failure("service", f"AWS did not answer in time: {one_line(str(exc))}")
    if isinstance(exc, bx.BotoCoreError):
        return Failure("service", f"AWS client error: {one_line(str(exc))}")
    return _describe_deadline(exc)


def _describe_deadline(exc: BaseException) -> Failure:
    from deadline.client.exceptions import DeadlineOperationCanceled, DeadlineOperationError
    from deadline.job_attachments.exceptions import AssetSyncError, JobAttachmentsError

    from stmpo.submit.deadline_submit import SubmissionCanceled

    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, SubmissionCanceled):
        return Failure("service", f"submission {exc}")
    if isinstance(exc, DeadlineOperationCanceled):
        return Failure("service", f"submission canceled: {one_line(str(exc)) or 'by request'}")
    if isinstance(exc, (AssetSyncError, JobAttachmentsError)):
        inner = describe(cause) if cause is not None else None
        text = inner.message if inner is not None else one_line(str(exc))
        return Failure("service", f"uploading job attachments failed: {text}")
    if isinstance(exc, DeadlineOperationError):
        if cause is not None:
            return describe(cause)
        return Failure("service", one_line(str(exc)))
    if isinstance(exc, TimeoutError):
        return Failure("service", f"timed out: {one_line(str(exc))}")
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return Failure("input", f"{where}{exc.strerror}")
    return Failure("service", f"{type(exc).__name__}: {one_line(str(exc))}")
