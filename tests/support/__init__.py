"""Helpers and factories the tests share: plain functions and classes, no fixtures and no tests.
Conftest files declare the fixtures and call these; test modules import from here only."""
