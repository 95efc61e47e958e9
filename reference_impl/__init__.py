"""A minimal but complete GWS API v2 reference server (REST + CometD)."""
