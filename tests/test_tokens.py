"""Access tokens: JWT HS256 with a key id, and a parser that is total.

Whatever a client sends as an access token (any text, any bytes a query string could carry,
any JSON a forger could sign) ends as :class:`TokenError` ``invalid_token`` or
``token_expired``, never as another exception; the REST header and the ``/ws`` handshake
answer it with 401, never 500.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.accounts import tokens
from server.accounts.tokens import AccessClaims, TokenError, TokenSigner
from tests.conftest import Node

KEY = b"k" * 32
OLD_KEY = b"o" * 32
NOW = 1_000_000.0
CLAIMS = AccessClaims(
    user_id="3f0c1f8e-58c4-4b31-9a4e-7b0f8c2d9a10",  # type: ignore[arg-type]
    role="player",
    guest=False,
    session_id="0d9b3d0e-1c47-4a6e-8f07-0f5cbb8a3e21",
    issued_at=int(NOW),
    expires_at=int(NOW) + 900,
)
PAYLOAD = {"sub": CLAIMS.user_id, "role": "player", "guest": False, "sid": CLAIMS.session_id}
PAYLOAD |= {"iat": CLAIMS.issued_at, "exp": CLAIMS.expires_at}
CODES = {"invalid_token", "token_expired"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def old_format_payload() -> str:
    """The payload segment of a token in the format before JWT (``v1.<payload>.<sig>``)."""
    return b64(json.dumps(PAYLOAD).encode())


def code_of(signer: TokenSigner, token: Any, now: float = NOW) -> str:
    with pytest.raises(TokenError) as refused:
        signer.verify(token, now)
    return refused.value.code


def signed(payload: dict[str, Any], key: bytes = KEY, **headers: Any) -> str:
    kid = TokenSigner(key).kid
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid, **headers})


def forge(header: Any, payload: Any, key: bytes = KEY) -> str:
    """A JWS signed by hand, so header and payload may be anything JSON can say."""
    body = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return body + "." + b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


KID = TokenSigner(KEY).kid
HEADER = {"alg": "HS256", "typ": "JWT", "kid": KID}


# --- the format -------------------------------------------------------------------------


def test_a_token_is_a_jwt_signed_hs256_with_a_key_id() -> None:
    signer = TokenSigner(KEY)
    token = signer.issue(CLAIMS)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["kid"] == signer.kid
    assert jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False}) == PAYLOAD
    assert signer.verify(token, NOW) == CLAIMS
    assert signer.verify(token.encode(), NOW) == CLAIMS  # bytes from a query string
    assert TokenSigner(KEY).kid == signer.kid != TokenSigner(OLD_KEY).kid  # same key, same kid


def test_older_keys_still_verify_and_new_tokens_use_the_current_one() -> None:
    old = TokenSigner(OLD_KEY)
    rotated = TokenSigner(KEY, previous=[OLD_KEY])
    assert rotated.verify(old.issue(CLAIMS), NOW) == CLAIMS
    assert jwt.get_unverified_header(rotated.issue(CLAIMS))["kid"] == rotated.kid
    assert code_of(TokenSigner(KEY), old.issue(CLAIMS)) == "invalid_token"  # kid unknown


def test_leeway_is_zero() -> None:
    token = TokenSigner(KEY).issue(CLAIMS)
    assert TokenSigner(KEY).verify(token, CLAIMS.expires_at - 0.001) == CLAIMS
    assert code_of(TokenSigner(KEY), token, CLAIMS.expires_at) == "token_expired"


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in PAYLOAD.items() if k != name}


FORGED: list[tuple[str, str]] = [
    (
        "alg none",
        jwt.encode(PAYLOAD, None, algorithm="none", headers={"kid": TokenSigner(KEY).kid}),
    ),
    ("another key, same kid", signed(PAYLOAD, OLD_KEY, kid=TokenSigner(KEY).kid)),
    ("no kid", jwt.encode(PAYLOAD, KEY, algorithm="HS256")),
    ("kid not a string", forge({**HEADER, "kid": 7}, PAYLOAD)),
    ("header a list", forge([HEADER], PAYLOAD)),
    ("alg missing", forge({"kid": KID}, PAYLOAD)),
    *[(f"no {claim}", signed(_without(claim))) for claim in PAYLOAD],
    ("guest not a boolean", signed({**PAYLOAD, "guest": "no"})),
    ("exp not an integer", signed({**PAYLOAD, "exp": "soon"})),
    ("exp a boolean", signed({**PAYLOAD, "exp": True})),
    ("sub empty", signed({**PAYLOAD, "sub": ""})),
    ("sub a number", signed({**PAYLOAD, "sub": 5})),
    ("payload a list", forge(HEADER, [PAYLOAD])),
    ("payload a string", forge(HEADER, "sub")),
    ("the old format", f"v1.{old_format_payload()}.{b64(b'x' * 32)}"),
    ("old format, non-ASCII signature", f"v1.{old_format_payload()}.éé"),
    ("lone surrogate", f"v1.{old_format_payload()}.\udcff"),
    ("empty", ""),
    ("dots only", ".."),
]


@pytest.mark.parametrize(("case", "token"), FORGED, ids=[c for c, _ in FORGED])
def test_forged_and_malformed_tokens_are_invalid(case: str, token: str) -> None:
    assert code_of(TokenSigner(KEY), token) == "invalid_token", case


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_only_hs256_is_accepted(algorithm: str) -> None:
    key = b"L" * 64  # long enough for either, so PyJWT signs without a warning
    token = jwt.encode(PAYLOAD, key, algorithm=algorithm, headers={"kid": TokenSigner(key).kid})
    assert code_of(TokenSigner(key), token) == "invalid_token"


def test_the_expired_check_comes_after_the_signature() -> None:
    expired = signed({**PAYLOAD, "exp": 5})
    assert code_of(TokenSigner(KEY), expired) == "token_expired"
    assert code_of(TokenSigner(OLD_KEY), expired) == "invalid_token"


def test_a_checked_token_is_kept_but_still_expires_and_forgeries_are_not() -> None:
    signer = TokenSigner(KEY)
    token = signer.issue(CLAIMS)
    assert signer.verify(token, NOW) == CLAIMS
    assert signer.verify(token, NOW + 1) == CLAIMS  # from the kept claims
    assert code_of(signer, token, CLAIMS.expires_at) == "token_expired"
    head, body, sig = token.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert code_of(signer, f"{head}.{body}.{flipped}") == "invalid_token"
    forged_body = b64(json.dumps({**PAYLOAD, "role": "admin"}).encode())
    assert code_of(signer, f"{head}.{forged_body}.{sig}") == "invalid_token"


def test_the_kept_claims_are_bounded() -> None:
    signer = TokenSigner(KEY)
    for i in range(tokens.VERIFIED_TOKENS + 10):
        claims = AccessClaims(CLAIMS.user_id, "player", False, f"s{i}", int(NOW), int(NOW) + 900)
        assert signer.verify(signer.issue(claims), NOW) == claims
    assert len(signer._verified) == tokens.VERIFIED_TOKENS


# --- total parsing ----------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
CLAIM_VALUES = st.dictionaries(
    st.sampled_from(["sub", "role", "guest", "sid", "iat", "exp", "nbf", "aud", "x"]), JSON
)
SEGMENT = st.one_of(
    st.binary(max_size=40).map(b64),
    st.text(max_size=20),
    st.sampled_from(["", "v1", "e30", "bnVsbA", b64(json.dumps(HEADER).encode())]),
)


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_any_text_is_a_token_error(token: str) -> None:
    assert code_of(TokenSigner(KEY), token) in CODES


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_token_error(token: bytes) -> None:
    assert code_of(TokenSigner(KEY), token) in CODES


@settings(max_examples=300)
@given(st.lists(SEGMENT, min_size=1, max_size=4).map(".".join))
def test_any_dotted_segments_are_a_token_error(token: str) -> None:
    assert code_of(TokenSigner(KEY), token) in CODES


@settings(max_examples=300)
@given(st.tuples(SEGMENT, SEGMENT, SEGMENT).map(".".join))
def test_any_three_segments_are_a_token_error(token: str) -> None:
    assert code_of(TokenSigner(KEY), token) in CODES


HEADER_VALUES = st.dictionaries(st.sampled_from(["alg", "typ", "kid", "cty", "crit", "x"]), JSON)


@settings(max_examples=400)
@given(CLAIM_VALUES, HEADER_VALUES, st.booleans())
def test_any_signed_json_is_claims_or_a_token_error(
    payload: dict[str, Any], header: dict[str, Any], merge: bool
) -> None:
    """Correctly signed (so the checks after the signature run) over any header and claims."""
    token = forge({**HEADER, **header} if merge else header, {**PAYLOAD, **payload})
    try:
        claims = TokenSigner(KEY).verify(token, NOW)
    except TokenError as exc:
        assert exc.code in CODES
    else:
        assert claims.user_id and claims.session_id and isinstance(claims.guest, bool)


# --- over HTTP --------------------------------------------------------------------------


async def raw_get(url: str, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, Any]:
    """One HTTP/1.1 GET written byte for byte (a client library would refuse these headers)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        lines = [f"GET {path} HTTP/1.1".encode(), f"Host: {parts.netloc}".encode()]
        lines += [name + b": " + value for name, value in headers]
        lines += [b"Connection: close", b"", b""]
        writer.write(b"\r\n".join(lines))
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else None


UPGRADE = [
    (b"Upgrade", b"websocket"),
    (b"Connection", b"Upgrade"),
    (b"Sec-WebSocket-Key", base64.b64encode(b"0123456789abcdef")),
    (b"Sec-WebSocket-Version", b"13"),
    (b"Sec-WebSocket-Protocol", b"quill.v1.json"),
]


@pytest.mark.parametrize(
    "signature", ["éé".encode(), b"\xff\xfe", b"%C3%A9", b"\xc3\xa9" * 60, b"v1.x"]
)
async def test_a_garbage_bearer_token_is_401_on_rest(node: Node, signature: bytes) -> None:
    token = b"v1." + old_format_payload().encode() + b"." + signature
    status, body = await raw_get(
        node.url, "/api/v1/auth/me", [(b"Authorization", b"Bearer " + token)]
    )
    assert (status, body["error"]["code"]) == (401, "invalid_token")


@pytest.mark.parametrize("signature", ["%C3%A9", "%C3%A9%C3%A9", "%FF", "%ED%B3%BF", "%00"])
async def test_a_garbage_query_token_is_401_on_the_ws_handshake(node: Node, signature: str) -> None:
    path = f"/ws?token=v1.{old_format_payload()}.{signature}"
    status, body = await raw_get(node.url, path, UPGRADE)
    assert (status, body["error"]["code"]) == (401, "invalid_token")


async def test_a_garbage_bearer_token_is_401_on_the_ws_handshake(node: Node) -> None:
    token = b"v1." + old_format_payload().encode() + "éé".encode()
    status, body = await raw_get(
        node.url, "/ws", [*UPGRADE, (b"Authorization", b"Bearer " + token)]
    )
    assert (status, body["error"]["code"]) == (401, "invalid_token")
