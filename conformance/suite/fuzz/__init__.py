"""Fuzzing every operation of spec/openapi.yaml: ``pytest -p gws --pyargs conformance.suite.fuzz``.

One test per (operation, role) and kind — positive data, negative data — plus stateful runs
through the contract's OpenAPI links; see test_fuzz.py for what each proves.
"""
