"""Reads of the delegation cache, one module per page family; each returns what a page shows."""
