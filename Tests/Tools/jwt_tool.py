#!/usr/bin/env python3
"""Keys and tokens made by a real JWT library (PyJWT), for the tests of swift-presence.

  jwt_tool.py keys DIR          RSA keys k1, k3 and EC P-256 key k2 (private PEM), their public
                                PEMs, and JWK Sets: jwks-12.json (k1, k2), jwks-3.json (k3)
  jwt_tool.py token DIR KID SUB [--no-kid] [--alg ALG]
                                a token for SUB signed with key KID, valid 10 minutes
"""
import json
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ALGORITHMS = {"k1": "RS256", "k2": "ES256", "k3": "RS256"}


def make_keys(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    sets = {"jwks-12.json": [], "jwks-3.json": []}
    for kid, algorithm in ALGORITHMS.items():
        if algorithm == "RS256":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
        (directory / f"{kid}.key").write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (directory / f"{kid}.pub").write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        sets["jwks-3.json" if kid == "k3" else "jwks-12.json"].append(jwk)
    for name, keys in sets.items():
        (directory / name).write_text(json.dumps({"keys": keys}))


def make_token(directory: Path, kid: str, subject: str, with_kid: bool, algorithm: str | None) -> str:
    key = (directory / f"{kid}.key").read_bytes()
    now = int(time.time())
    headers = {"kid": kid} if with_kid else {}
    return jwt.encode({"sub": subject, "exp": now + 600, "iat": now}, key,
                      algorithm=algorithm or ALGORITHMS[kid], headers=headers)


def main(arguments: list[str]) -> None:
    if len(arguments) == 2 and arguments[0] == "keys":
        make_keys(Path(arguments[1]))
    elif len(arguments) >= 4 and arguments[0] == "token":
        algorithm = arguments[arguments.index("--alg") + 1] if "--alg" in arguments else None
        print(make_token(Path(arguments[1]), arguments[2], arguments[3], "--no-kid" not in arguments, algorithm))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
