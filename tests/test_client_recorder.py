"""The Recorder's order: records added in any order are kept, and asked for, by their seq."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.client import Recorder


@dataclass(frozen=True)
class _Record:
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq}


def test_since_returns_what_came_after_the_mark_in_seq_order_whatever_the_order_of_adding() -> None:
    recorder = Recorder()
    seqs = [recorder.next_seq() for _ in range(6)]
    # A notification listener may add a record taken earlier after an HTTP exchange taken later.
    for seq in (seqs[1], seqs[0], seqs[3], seqs[5], seqs[2], seqs[4]):
        recorder.add(_Record(seq))
    assert [r.seq for r in recorder.since(seqs[2])] == seqs[3:]
    assert [r.seq for r in recorder.since(0)] == seqs
    assert recorder.since(seqs[-1]) == ()
    assert [r.seq for r in recorder.since(recorder.mark())] == []
