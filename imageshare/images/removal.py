"""Deleting images: rows and objects both go, and a failure half-way is finished later.

The order keeps the database and storage in step:
1. the rows are marked deleting in one transaction — the images are gone for everyone
   at once, and either all of a bulk request are or none;
2. the objects are deleted (deleting a missing one is fine, so this can be repeated);
3. the rows go (renditions, tag links and comments cascade).
A crash or a storage error after step 1 leaves rows marked deleting, which
`finish_pending` (run by the pipeline's recovery loop) completes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from imageshare.auth.viewer import Viewer
from imageshare.db import Sessions
from imageshare.images import records
from imageshare.images import service as images
from imageshare.images.keys import original_key, rendition_key
from imageshare.images.kinds import RenditionName
from imageshare.storage import Storage

logger = logging.getLogger(__name__)


def remove_images(
    viewer: Viewer,
    image_ids: Iterable[uuid.UUID],
    *,
    storage: Storage,
    sessions: Sessions,
) -> list[uuid.UUID]:
    """Delete the viewer's images (NotFound / NotAllowed refuse the whole request).

    Returns the ids deleted. Blocking: call it from a worker thread.
    """
    with sessions() as db:
        ids = images.begin_deletion(db, viewer=viewer, image_ids=image_ids)
    for image_id in ids:
        try:
            _finish(image_id, storage, sessions)
        except Exception:
            # Already gone for everyone; the recovery loop deletes the rest later.
            logger.exception("could not finish deleting image %s; will retry", image_id)
    return ids


def finish_pending(*, storage: Storage, sessions: Sessions) -> int:
    """Complete deletions a crash or an error interrupted; returns how many it finished.

    One that fails again is logged and left for the next round; the others go on.
    """
    with sessions() as db:
        pending = records.pending_deletions(db)
    finished = 0
    for image_id in pending:
        try:
            _finish(image_id, storage, sessions)
        except Exception:
            logger.exception("could not finish deleting image %s; will retry", image_id)
        else:
            finished += 1
    return finished


def _finish(image_id: uuid.UUID, storage: Storage, sessions: Sessions) -> None:
    for name in RenditionName:
        storage.delete(rendition_key(image_id, name))
    storage.delete(original_key(image_id))
    with sessions() as db:
        records.remove_row(db, image_id=image_id)
