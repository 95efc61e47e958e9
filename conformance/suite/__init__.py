"""The conformance suite itself: ``pytest --pyargs conformance.suite`` (plugin options: ``pytest --help``).

fuzz/       schemathesis-driven tests of every operation, as every role allowed to call it
"""
