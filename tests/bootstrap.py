"""Loaded with `-p tests.bootstrap` before pytest-django reads settings: test-run environment."""

import os
import tempfile

# Development defaults, and a broker folder and test database of this run's own.
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("PORTAL_RUN_DIR", tempfile.mkdtemp(prefix="portal-test-run-"))
# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# test body are still synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
