"""The GWS contract (OpenAPI, JSON Schemas, requirements, errata) shipped as package data."""
