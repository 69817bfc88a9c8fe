"""The app's dependencies, built once from Settings where a process is assembled, and
passed in from there: settings, the database engine and its sessions, storage, events,
the CloudFront signer, the bearer-token verifier, the OpenID Connect client and the
processing tier.

Who builds one: the app (imageshare.py, which also installs it for the pages), the
worker (worker.py), and tests, each with the settings it runs with. Services and
helpers never reach for these themselves: they take what they need as arguments (a
Session, a Storage, a public URL), and the adapters (routes, the GraphQL view, the
pages) hand it to them from the wiring. Nothing else in the app keeps a process-wide
instance of any of these.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session

from imageshare.auth import oidc
from imageshare.auth.tokens import BearerTokenVerifier, build_verifier
from imageshare.db import create_db_engine, run_in_session, session_scope
from imageshare.events import Events, build_events
from imageshare.images.cdn import CloudFrontUrls, build_signer
from imageshare.images.media import MediaUrls
from imageshare.images.tier import ProcessingTier, build_tier
from imageshare.settings import Settings
from imageshare.storage import Storage, build_storage

T = TypeVar("T")


def _built_once(build: Callable[[Wiring], T]) -> property:
    """A dependency built on first use, once, even when threads ask at the same time:
    building it blocks (network clients, credentials, thread pools), so it is built
    where it is first needed off the event loop, not at import."""
    name = build.__name__

    @functools.wraps(build)
    def get(self: Wiring) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build(self)
            built: T = self._built[name]
            return built

    return property(get)


@dataclass(eq=False)
class Wiring:
    settings: Settings
    engine: Engine
    events: Events
    signer: CloudFrontUrls | None  # CloudFront signed URLs (None without signing keys)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _built: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- database -------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction (db.session_scope) whose events go to this app's Events."""
        with session_scope(self.engine, events=self.events) as db:
            yield db

    async def run(self, work: Callable[[Session], T]) -> T:
        """Blocking database work from async code: in a thread, in one transaction."""
        return await run_in_session(self.session, work)

    # -- built on first use ---------------------------------------------------------------

    @_built_once
    def storage(self) -> Storage:
        return build_storage(self.settings)

    @_built_once
    def tier(self) -> ProcessingTier:
        return build_tier(self.settings, storage=self.storage, sessions=self.session)

    @_built_once
    def token_verifier(self) -> BearerTokenVerifier | None:
        return build_verifier(self.settings, run=self.run)

    @_built_once
    def oidc_client(self) -> Any:
        return oidc.build_client(self.settings)

    @property
    def media(self) -> MediaUrls:
        """Media URLs for this app's settings, storage and signer (images/media.py)."""
        return MediaUrls(settings=self.settings, storage=self.storage, signer=self.signer)

    def close(self) -> None:
        """Stop what was started: the processing tier's jobs, the events' Redis reader,
        the engine's connections."""
        tier = self._built.get("tier")
        if tier is not None:
            tier.jobs.close()
        self.events.close()
        self.engine.dispose()


def build_wiring(settings: Settings) -> Wiring:
    """Everything the app needs, from these settings."""
    # Pillow's decompression-bomb guard is one number for the whole process, and the
    # one place it is set is here, from MAX_IMAGE_PIXELS. Inspection and the worker check
    # the pixel count themselves, from the header, against the same setting and refuse
    # with a sentence (inspection silences Pillow's warning for what it refuses anyway);
    # past twice the limit Pillow refuses to open the file at all, which inspection
    # reports as the same refusal. A process that builds no wiring keeps Pillow's own
    # default.
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    return Wiring(
        settings=settings,
        engine=create_db_engine(settings.database_url),
        events=build_events(settings),
        signer=build_signer(settings),
    )


# -- the pages' way in ---------------------------------------------------------------------

_installed: Wiring | None = None


def install(wiring: Wiring | None) -> Wiring | None:
    """Make `wiring` the one `installed()` returns, and return the one it replaces.

    The app assembly (imageshare.py) installs its wiring once; tests install theirs
    around a test. Nothing but the pages reads it."""
    global _installed
    previous, _installed = _installed, wiring
    return previous


def installed() -> Wiring:
    """The wiring of this app, for Reflex state.

    Reflex creates state objects itself, per browser tab, without constructor
    arguments, and calls their event handlers with only the event's data: there is no
    way to hand a state its dependencies. So the pages, and only the pages, take them
    from here: the one object the app assembly installed."""
    if _installed is None:
        raise RuntimeError("No wiring is installed: the app assembly (imageshare.py) installs it.")
    return _installed
