"""The tenant id of an invoke (tenant isolation, `TenancyConfig: PER_TENANT`), as Lambda checks it: the Invoke
API's `X-Amz-Tenant-Id` and API Gateway's mapping of it both pass through `tenant_of`."""

from __future__ import annotations

import re

TENANT_ID = re.compile(r"[a-zA-Z0-9._:/=+\-@ ]{1,256}")  # Lambda's TenantId shape
TENANT_MISMATCH = "Tenant ID configuration not specified or passed to a function when tenant isolation is not enabled."


def tenant_of(header: str | None, isolated: bool) -> str | None:
    """The invoke's tenant id (X-Amz-Tenant-Id): required by a function in tenant isolation mode, refused by
    any other, as Lambda does (InvalidParameterValueException either way); ValueError with Lambda's message."""
    if header is None or header == "":
        if isolated:
            raise ValueError(TENANT_MISMATCH)
        return None
    if not isolated:
        raise ValueError(TENANT_MISMATCH)
    if not TENANT_ID.fullmatch(header):
        raise ValueError("TenantId must be 1 to 256 characters of letters, digits, spaces and ._:/=+-@")
    return header
