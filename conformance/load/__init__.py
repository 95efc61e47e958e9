"""Conformance under load (issue 13): ``gws-conformance load``, simulated agents on Locust.

Importing this package imports nothing else: Locust (and gevent's patching) comes with conformance.load.main.
"""
