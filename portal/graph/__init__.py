"""The only package that speaks HTTP to Microsoft (Entra ID and Graph)."""
