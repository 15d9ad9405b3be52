"""How a delivery is signed, the scheme Stripe and GitHub use: an HMAC-SHA256, keyed with
the subscription's secret, of the timestamp, a full stop and the body, sent as

    Claimtrail-Signature: t=<unix seconds>,v1=<hex digest>

A receiver recomputes it over the body as received and the `t` given, compares in constant
time, and refuses a `t` older than a few minutes (a replay). docs/webhooks.md shows it."""

import hashlib
import hmac

HEADER = "Claimtrail-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, *, now: int) -> bool:
    """What a receiver does: whether `value` (the header) signs `body` with `secret`, made
    within TOLERANCE_SECONDS of `now`."""
    parts = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))
