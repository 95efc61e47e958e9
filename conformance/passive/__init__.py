"""Passive conformance: judging traffic the suite did not cause (issue 12).

    har.py       HAR 1.2 files (browsers' developer tools, proxies) -> ``Entry`` records
    rest.py      one REST exchange against the checks registry and the contract
    bayeux.py    the Bayeux messages of long-polling bodies and websocket frames, and the sequence rules
    judge.py     ``Judge``: every entry through both, findings grouped per rule
    report.py    the judge's findings as a results file, JUnit XML and the usual reports

``gws-conformance validate FILE.har`` (conformance.cli) is the command; the judging never sends a request.
"""
