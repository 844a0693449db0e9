"""Sign-in fixtures shared by every test package (filled in by the sign-in work)."""
