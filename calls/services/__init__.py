"""Writes on calls: start, act on a live call, keep calls alive, move a call's state."""
