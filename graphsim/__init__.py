"""graphsim: an offline Microsoft tenant (Entra ID + Microsoft Graph + call callbacks)."""
