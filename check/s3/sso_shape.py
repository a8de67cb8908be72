"""sso_shape.py — asks the stand-in's IAM Identity Center portal for role credentials with
botocore's own sso client (its service model sso/service-2.json serializes the request and
parses the answer), as Debian's python3-botocore ships it.
usage: python3 sso_shape.py ENDPOINT ACCOUNT_ID ROLE_NAME ACCESS_TOKEN
Prints "ok" when botocore read credentials that expire in the future, else what went wrong."""
import sys
import time

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config

endpoint, account, role, token = sys.argv[1:5]
client = botocore.session.get_session().create_client(
    "sso", region_name="eu-west-1", endpoint_url=endpoint,
    config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
try:
    creds = client.get_role_credentials(roleName=role, accountId=account, accessToken=token)["roleCredentials"]
except Exception as e:  # the report is the test's output
    print(f"botocore: {e}")
    sys.exit(0)
fresh = creds["expiration"] > time.time() * 1000
keys = all(creds.get(k) for k in ("accessKeyId", "secretAccessKey", "sessionToken"))
print("ok" if fresh and keys else f"unusable: {sorted(creds)}")
