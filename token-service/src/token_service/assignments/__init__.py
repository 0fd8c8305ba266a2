"""The caller's assignments, listed for the trainee's page."""
