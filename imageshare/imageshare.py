"""The app: registers pages and mounts the API routes. Wiring only."""

import asyncio

import reflex as rx

from imageshare.routes import build_api
from imageshare.settings import load_settings
from imageshare.ui.pages.home import home
from imageshare.ui.pages.image import image_page
from imageshare.ui.pages.not_found import not_found
from imageshare.ui.pages.profile import profile_page
from imageshare.ui.pages.settings import settings_page
from imageshare.ui.pages.upload import upload_page
from imageshare.ui.state.gallery import GalleryState
from imageshare.ui.state.image import ImageState
from imageshare.ui.state.profile import ProfileState
from imageshare.ui.state.session import SessionState
from imageshare.wiring import build_wiring, install

# The app's dependencies, built once from the environment's settings: the routes get
# them passed in, the pages (which Reflex builds without arguments) from install().
wiring = build_wiring(load_settings())
install(wiring)

# The theme is registered in rxconfig.py (RadixThemesPlugin).
app = rx.App(api_transformer=build_api(wiring))


@app.register_lifespan_task
async def recover_interrupted_work() -> None:
    """Where this process runs the processing jobs (JOBS_BACKEND=inline), it also finds
    the work a crash or restart interrupted; with SQS the workers do (worker.py)."""
    tier = await asyncio.to_thread(lambda: wiring.tier)  # builds storage, queue clients: blocking
    if tier.jobs.runs_here:
        await tier.recover_forever()


# Every page asks who is signed in when it loads (the cookie decides, per tab).
app.add_page(
    home,
    route="/",
    title="imageshare — gallery",
    on_load=[SessionState.load_viewer, GalleryState.load],
)
app.add_page(
    image_page,
    route="/i/[image_id]",
    title=ImageState.page_title,
    on_load=[SessionState.load_viewer, ImageState.load],
)
app.add_page(
    profile_page,
    route="/u/[username]",
    title=ProfileState.page_title,
    on_load=[SessionState.load_viewer, ProfileState.load],
)
app.add_page(
    not_found, route="404", title="Page not found — imageshare", on_load=SessionState.load_viewer
)
app.add_page(
    settings_page,
    route="/settings",
    title="Settings — imageshare",
    on_load=SessionState.require_sign_in,
)
app.add_page(
    upload_page, route="/upload", title="Upload — imageshare", on_load=SessionState.require_sign_in
)
