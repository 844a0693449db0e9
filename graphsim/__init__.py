"""graphsim: an offline Microsoft tenant (Entra ID + Microsoft Graph + call callbacks)."""

__version__ = "1.0"
