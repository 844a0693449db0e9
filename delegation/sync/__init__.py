"""The delegation sync: read the tenant from Graph and apply the difference to the cache."""
