"""The tenant: people, groups and call delegations (model, store, demo data, changes)."""
