"""Security keys (WebAuthn) as editors' second factor (config.two_factor with
django-otp-webauthn): added on the two-factor page, asked for after the password, checked
by signature. The key is the one outside part, so it is a software authenticator here
(SoftKey: an ECDSA P-256 key answering the browser's calls as a real key does); the
browser's own flow is in tests/e2e (Chrome's virtual authenticator)."""

import base64
import hashlib
import json
import os
import struct
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.models import User
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from config import two_factor
from tests.factories import EditorFactory
from tests.test_two_factor import PASSWORD, SETUP, current_code, sign_in, turn_on
from tests.test_two_factor import with_password as editor_with_password

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"
ADD_BEGIN = "/admin/two-factor/key/add/begin/"
ADD_COMPLETE = "/admin/two-factor/key/add/complete/"
SIGN_IN_BEGIN = "/admin/two-factor/key/sign-in/begin/"
SIGN_IN_COMPLETE = "/admin/two-factor/key/sign-in/complete/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftKey:
    """A security key in software: what navigator.credentials.create() and .get() return
    for it (packed as the browser's script sends them), signed with its own P-256 key."""

    def __init__(self, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _auth_data(self, rp_id: str, flags: int, attested: bytes = b"") -> bytes:
        self.counter += 1
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.counter) + attested

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32), -3: numbers.y.to_bytes(32)}
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cbor2.dumps(cose)
        )
        auth_data = self._auth_data(options["rp"]["id"], 0x45, attested)  # UP, UV, AT
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return self._credential(
            clientDataJSON=b64url(client_data),
            attestationObject=b64url(attestation),
            transports=["usb"],
        )

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        auth_data = self._auth_data(options["rpId"], 0x05)  # UP, UV
        client_data = self._client_data("webauthn.get", options["challenge"])
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.private.sign(signed, ec.ECDSA(hashes.SHA256()))
        return self._credential(
            clientDataJSON=b64url(client_data),
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
        )

    def _credential(self, **response: Any) -> dict[str, Any]:
        """A PublicKeyCredential as the browser's script sends it (JSON)."""
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        }


def post_json(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(
        url, json.dumps(body or {}), content_type="application/json", HTTP_ACCEPT="application/json"
    )


def add_key(client: Client, key: SoftKey) -> Any:
    """The page's "Add a security key": begin, the key answers, complete."""
    options = post_json(client, ADD_BEGIN)
    assert options.status_code == 200, options.content
    return post_json(client, ADD_COMPLETE, key.create(options.json()))


def use_key(client: Client, key: SoftKey, next_url: str = "/admin/claims/claim/") -> Any:
    """The sign-in page's "Use your security key": begin, the key signs, complete."""
    options = post_json(client, SIGN_IN_BEGIN)
    if options.status_code != 200:
        return options
    return post_json(client, f"{SIGN_IN_COMPLETE}?next={next_url}", key.get(options.json()))


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def editor_with_key(username: str = "ann") -> tuple[User, SoftKey]:
    """An editor who added a key as their first second factor, then signed out."""
    editor = editor_with_password(EditorFactory(username=username))
    client = Client()
    assert sign_in(client, username).status_code == 302
    key = SoftKey()
    added = add_key(client, key)
    assert added.status_code == 200, added.content
    page = client.get(SETUP).content.decode()
    assert "Your recovery codes" in page  # the first second factor: codes come with it
    return editor, key


def test_an_editor_adds_a_key_and_signs_in_with_password_then_key() -> None:
    ann, key = editor_with_key()
    assert two_factor.has_two_factor(ann)
    assert WebAuthnCredential.objects.filter(user=ann).count() == 1

    client = Client()
    asked = sign_in(client, "ann")
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Now use your security key" in page
    assert 'id="passkey-verification-button"' in page
    assert "otp_webauthn_auth.js" in page
    assert not signed_in(client)  # the password alone signs no one in

    done = use_key(client, key)
    assert done.status_code == 200, done.content
    assert done.json()["redirect_url"] == "/admin/claims/claim/"
    assert signed_in(client)
    assert client.get("/admin/claims/claim/").status_code == 200  # verified: not sent back


def test_the_challenge_lists_only_the_keys_of_the_account_whose_password_was_given() -> None:
    _ann, ann_key = editor_with_key("ann")
    _bob, bob_key = editor_with_key("bob")
    client = Client()
    sign_in(client, "ann")
    options = post_json(client, SIGN_IN_BEGIN).json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(ann_key.credential_id)]

    # Bob's key, answering Ann's challenge, does not sign anyone in.
    wrong = post_json(client, SIGN_IN_COMPLETE, bob_key.get(options))
    assert wrong.status_code >= 400
    assert not signed_in(client)


def test_a_key_is_refused_without_the_password_first() -> None:
    _, _key = editor_with_key()
    client = Client()
    refused = post_json(client, SIGN_IN_BEGIN)
    assert refused.status_code == 403
    assert "Sign in with your password first" in refused.json()["detail"]
    assert not signed_in(client)


def test_the_password_step_expires() -> None:
    _, key = editor_with_key()
    client = Client()
    sign_in(client, "ann")
    session = client.session
    session[two_factor.PENDING]["until"] -= two_factor.PENDING_SECONDS + 1
    session.save()
    assert use_key(client, key).status_code == 403
    assert not signed_in(client)


def test_a_signature_for_another_site_or_a_replay_is_refused() -> None:
    _, key = editor_with_key()
    client = Client()
    sign_in(client, "ann")

    phished = SoftKey(origin="https://claimtrail.example.net")
    phished.private, phished.credential_id, phished.counter = (
        key.private,
        key.credential_id,
        key.counter,
    )
    options = post_json(client, SIGN_IN_BEGIN).json()
    refused = post_json(client, SIGN_IN_COMPLETE, phished.get(options))
    assert refused.status_code >= 400
    assert not signed_in(client)

    # The challenge is used up: the same answer again is refused.
    answer = key.get(post_json(client, SIGN_IN_BEGIN).json())
    assert post_json(client, SIGN_IN_COMPLETE, answer).status_code == 200
    client.post("/admin/logout/")
    sign_in(client, "ann")
    assert post_json(client, SIGN_IN_COMPLETE, answer).status_code >= 400
    assert not signed_in(client)


def test_a_code_still_works_for_an_account_with_a_key_and_the_app() -> None:
    ann, key = editor_with_key()
    client = Client()
    sign_in(client, "ann")
    assert use_key(client, key).status_code == 200
    turn_on_page = client.get(SETUP).content.decode()
    assert "Add an authenticator app" in turn_on_page
    page = client.post(SETUP, {"action": "confirm", "code": current_code(ann)}).content.decode()
    assert "The authenticator app is added" in page
    assert "Your recovery codes" not in page  # the codes made with the key stay good
    client.post("/admin/logout/")
    assert sign_in(client, "ann", code=current_code(ann, steps_later=1)).status_code == 302
    assert signed_in(client)


def test_adding_a_key_asks_for_the_second_factor_already_set_up() -> None:
    ann = editor_with_password(EditorFactory(username="ann"))
    client = Client()
    sign_in(client, "ann")
    turn_on(client, ann)
    # A session that did not give the code (signed in before two-factor was set up).
    other = Client()
    other.force_login(ann)
    refused = post_json(other, ADD_BEGIN)
    assert refused.status_code == 403
    assert WebAuthnCredential.objects.filter(user=ann).count() == 0
    # The page itself signs such a session out.
    assert other.get(SETUP).status_code == 302
    assert not signed_in(other)

    # Signed out, no one adds a key.
    assert post_json(Client(), ADD_BEGIN).status_code == 403


def test_removing_a_key_keeps_a_second_factor() -> None:
    ann, key = editor_with_key()
    client = Client()
    sign_in(client, "ann")
    use_key(client, key)
    only = WebAuthnCredential.objects.get(user=ann)
    kept = client.post(SETUP, {"action": "remove-key", "key": str(only.pk)}, follow=True)
    assert "is your only security key" in kept.content.decode()
    assert WebAuthnCredential.objects.filter(user=ann).exists()

    second = SoftKey()
    assert add_key(client, second).status_code == 200
    gone = client.post(SETUP, {"action": "remove-key", "key": str(only.pk)}, follow=True)
    assert "is removed" in gone.content.decode()
    assert list(WebAuthnCredential.objects.filter(user=ann)) != [only]
    client.post("/admin/logout/")
    sign_in(client, "ann")
    assert use_key(client, key).status_code >= 400  # the removed key no longer signs in
    assert use_key(client, second).status_code == 200


def test_turning_it_off_removes_the_keys_and_the_password_alone_signs_in_again() -> None:
    ann, key = editor_with_key()
    client = Client()
    sign_in(client, "ann")
    use_key(client, key)
    client.post(SETUP, {"action": "off"})
    assert not WebAuthnCredential.objects.filter(user=ann).exists()
    client.post("/admin/logout/")
    assert sign_in(client, "ann").status_code == 302


def test_a_wrong_password_offers_no_key() -> None:
    editor_with_key()
    client = Client()
    page = sign_in(client, "ann", password=PASSWORD + "!").content.decode()
    assert "passkey-verification-button" not in page
    assert two_factor.PENDING not in client.session
    assert post_json(client, SIGN_IN_BEGIN).status_code == 403
