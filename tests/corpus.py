"""Where the shared real-world corpus is: $JIBAO_CORPUS, else shared/corpus beside the work tree.
With JIBAO_REQUIRE_CORPUS=1 (set by .ci/run when the corpus is there) a missing corpus is an
error, not a skip, so CI cannot pass silently without it."""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(
    os.environ.get("JIBAO_CORPUS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
)


def present(sub: str) -> bool:
    found = (CORPUS / sub).is_dir()
    if not found and os.environ.get("JIBAO_REQUIRE_CORPUS") == "1":
        raise RuntimeError(f"JIBAO_REQUIRE_CORPUS=1 but {CORPUS / sub} is missing")
    return found
