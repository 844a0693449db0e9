"""Cloud communications: calls, their states, and signed commsNotifications callbacks."""
