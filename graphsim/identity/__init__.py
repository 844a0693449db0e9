"""Entra ID (v2.0 endpoints): discovery, JWKS, authorize, token, logout."""
