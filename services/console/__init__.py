"""The owner's console (issue 22): a server-rendered web app on 127.0.0.1 with its own projections."""
