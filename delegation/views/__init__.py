"""Views of the delegation pages: people, organisation dashboard, grant reviews, sync runs."""
