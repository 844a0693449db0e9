"""Microsoft Graph: the request pipeline (auth, faults, routes), users, delta, call delegation
and $batch. Calls live in graphsim.calls."""
