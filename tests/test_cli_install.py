"""`gws-conformance run` judges with the installed suite, whatever the current directory holds.

The README's first command installs the project (`pip install .`) and runs from the clone, whose
`conformance/` folder would otherwise be imported by the pytest child in place of the installed suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_conformance_folder_in_the_current_directory_does_not_shadow_the_suite(tmp_path: Path) -> None:
    decoy = tmp_path / "conformance"
    decoy.mkdir()
    (decoy / "__init__.py").write_text('raise ImportError("decoy imported instead of the installed suite")\n')
    command = Path(sys.executable).with_name("gws-conformance")
    run = subprocess.run(
        [str(command), "run", "--requirement", "GWS-ROUT-001", "--report-dir", str(tmp_path / "reports")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
