"""The X API v2 driver: tweepy's asyncio client (driver.py), OAuth 2.0 PKCE sign-in and token refresh
(tokens.py, login.py), what X's rate-limit headers say (ratelimits.py), what the API costs (spend.py) and the
web search syntax translated to the API's operators (query.py)."""
