"""Tests as a user would run the project: the real ``dagster dev`` (webserver + daemon),
driven through GraphQL and through the UI in a headless Chromium."""
