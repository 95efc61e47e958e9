"""Protocol tests: the CometD (Bayeux) exchanges spoken by hand."""
