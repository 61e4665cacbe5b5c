"""How a Python backend verifies X-Brain-Token (the README shows the same few lines).

Usage: verify_brain_token.py GATEWAY_URL SERVICE TOKEN  → prints the verified claims as JSON.
"""
import json
import sys

import jwt  # PyJWT

gateway, service, token = sys.argv[1], sys.argv[2], sys.argv[3]
jwks = jwt.PyJWKClient(f"{gateway}/.well-known/jwks.json")
key = jwks.get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=service, issuer="brain-gateway",
                    options={"require": ["exp", "iat", "sub"]})
print(json.dumps(claims, sort_keys=True))
