"""Signs one request with botocore at a fixed time, for SigV4Tests to compare with ours.

Reads JSON on stdin: {"key", "secret", "token" (or null), "region", "method", "url", "headers": [[name, value]...],
"body", "time" (Unix seconds), "presign_expires" (or null)}. Prints JSON: {"authorization": ...} for a signed
request, {"url": ...} for a presigned one.
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
credentials = Credentials(spec["key"], spec["secret"], spec.get("token"))
now = datetime.datetime.fromtimestamp(spec["time"], datetime.timezone.utc).replace(tzinfo=None)
request = AWSRequest(method=spec["method"], url=spec["url"], headers=dict(spec["headers"]),
                     data=spec.get("body", "").encode())
if spec.get("presign_expires"):
    auth = botocore.auth.S3SigV4QueryAuth(credentials, "s3", spec["region"], expires=spec["presign_expires"])
else:
    # botocore hashes the body itself (S3SigV4Auth), so the same body is given, not its hash.
    auth = botocore.auth.S3SigV4Auth(credentials, "s3", spec["region"])
with mock.patch("botocore.auth.get_current_datetime", return_value=now):
    auth.add_auth(request)
if spec.get("presign_expires"):
    print(json.dumps({"url": request.url}))
else:
    print(json.dumps({"authorization": request.headers["Authorization"]}))
