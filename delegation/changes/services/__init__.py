"""Services of delegation changes: writes, each recording before it acts (see each module)."""
