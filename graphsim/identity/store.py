"""What the identity provider remembers: authorization codes, refresh tokens, and the failures
tests asked the token endpoint to answer next."""

from __future__ import annotations


class IdentityStore:
    def __init__(self):
        self.codes: dict[str, dict] = {}
        self.refresh: dict[str, dict] = {}
        self.fail_next = 0
        self.fail_status = 500
        self.slow_next = 0
        self.slow_ms = 2000.0

    def clear_pending_failures(self) -> None:
        self.fail_next = self.slow_next = 0

    def revoke(self, oid: str) -> int:
        """Revokes every live refresh token of a person; returns how many."""
        revoked = 0
        for entry in self.refresh.values():
            if entry["oid"] == oid and entry["revoked"] is None:
                entry["revoked"] = "revoked"
                revoked += 1
        return revoked

    def expire_all(self) -> int:
        expired = 0
        for entry in self.refresh.values():
            if entry["revoked"] is None:
                entry["revoked"] = "expired"
                expired += 1
        return expired

    def expire_codes(self) -> None:
        for entry in self.codes.values():
            entry["expires"] = 0
