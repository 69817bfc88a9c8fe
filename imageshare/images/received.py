"""Receiving uploaded bytes: into a temporary file, counted and hashed as they arrive.

Nothing here trusts the client: the size limit is enforced while the bytes come in
(an oversized file is never held whole, in memory or on disk), and the name is only
used for the default title and for messages.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO


@dataclass
class ReceivedFile:
    """One uploaded file on its way in. `path` is None once it was refused."""

    filename: str
    limit: int
    path: Path | None = None
    size: int = 0
    refused: str | None = None
    _hash: Any = field(default_factory=hashlib.sha256, repr=False)
    _handle: BinaryIO | None = field(default=None, repr=False)

    @property
    def sha256(self) -> str:
        digest: str = self._hash.hexdigest()
        return digest

    def title_or_default(self, given: str | None) -> str:
        """The title the uploader gave, or (when blank) the file's name."""
        return str(given or "").strip() or self.title

    @property
    def title(self) -> str:
        """The file name without folders or extension: the default title."""
        name = PureWindowsPath(PurePosixPath(self.filename).name).name
        stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
        return stem.strip()[:200] or "Untitled"

    def write(self, data: bytes) -> None:
        if self.refused:
            return  # keep reading the request, store nothing
        if self.size + len(data) > self.limit:
            self.refuse(f"it is larger than the {self.limit / 1_000_000:g} MB allowed")
            return
        if self._handle is None:
            fd, name = tempfile.mkstemp(prefix="imageshare-upload-")
            self.path = Path(name)
            self._handle = os.fdopen(fd, "wb")
        self._handle.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> None:
        """All bytes are in: close the file (an empty upload is refused)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if not self.refused and self.size == 0:
            self.refuse("the file is empty")

    def refuse(self, reason: str) -> None:
        self.refused = reason
        self.discard()

    def discard(self) -> None:
        """Remove the temporary file; safe to call more than once."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
