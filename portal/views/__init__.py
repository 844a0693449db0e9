"""The portal's own pages: home, sign-in, audit log, sync account, health and errors."""
