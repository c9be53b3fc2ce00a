"""Talking to a running OIC: URLs, auth, the HTTP client, error bodies, the fetch cache."""
