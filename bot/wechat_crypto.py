"""WeChat Official Account message security: SHA-1 signatures and safe-mode AES.

Safe mode: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = the key's first 16
bytes, PKCS#7 padding to 32 bytes; the plaintext is 16 random bytes, the message length
(4 bytes, big-endian), the message, then the AppID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(Exception):
    """A message that does not decrypt, or was meant for another account."""


def signature(*parts: str) -> str:
    """SHA-1 over the parts sorted and joined (token, timestamp, nonce[, Encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(expected: str, *parts: str) -> bool:
    return hmac.compare_digest(signature(*parts).encode(), (expected or "").encode())


class WeChatCrypto:
    def __init__(self, aes_key: str, app_id: str) -> None:
        try:
            self.key = base64.b64decode(aes_key + "=")
        except ValueError as exc:
            raise ValueError("HAOXIN_WECHAT_AES_KEY must be 43 base64 characters") from exc
        if len(self.key) != 32:
            raise ValueError("HAOXIN_WECHAT_AES_KEY must be 43 base64 characters")
        self.app_id = app_id.encode()

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, nonce: bytes | None = None) -> str:
        body = message.encode()
        plain = (nonce or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        try:
            data = base64.b64decode(encrypted)
            decryptor = self._cipher().decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
            pad = plain[-1]
            if not 1 <= pad <= BLOCK:
                raise CryptoError("bad padding")
            plain = plain[:-pad]
            (length,) = struct.unpack(">I", plain[16:20])
            message, app_id = plain[20 : 20 + length], plain[20 + length :]
        except (ValueError, struct.error, IndexError) as exc:
            raise CryptoError("does not decrypt") from exc
        if not hmac.compare_digest(app_id, self.app_id):
            raise CryptoError("meant for another account")
        return message.decode()
