from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from imageshare.columns import UTCDateTime, enum_column, timestamp
from imageshare.db import utcnow
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.share_codes import LENGTH as SHARE_CODE_LENGTH
from imageshare.images.share_codes import new_share_code


class Image(SQLModel, table=True):
    __table_args__ = (
        # The gallery: public + ready, newest first, keyset-paged by (created_at, id).
        sa.Index("ix_image_gallery", "visibility", "status", "created_at", "id"),
        # A profile page: one owner's images, newest first.
        sa.Index("ix_image_owner_created", "owner_id", "created_at", "id"),
        # Duplicate detection: has this person already uploaded these bytes?
        sa.Index("ix_image_owner_sha256", "owner_id", "sha256"),
        # The recovery sweep, once a minute in every process that runs jobs: the few rows
        # still processing, not the whole table.
        sa.Index(
            "ix_image_processing_seen",
            "processing_seen_at",
            postgresql_where=sa.text("status = 'processing'"),
            sqlite_where=sa.text("status = 'processing'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    # A place name typed by the uploader; unrelated to the GPS position in the file.
    location: str = Field(default="", max_length=200)
    visibility: Visibility = enum_column(Visibility, default=Visibility.PUBLIC)
    status: Status = enum_column(Status, default=Status.PROCESSING)
    failure_reason: str | None = Field(default=None, max_length=500)
    # Times a worker took up this image's processing, crashes included: past
    # pipeline.MAX_ATTEMPTS it is given up (failed), so a poison file cannot loop for ever.
    processing_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The last sign of life of its processing (written at upload, by each claim and each
    # heartbeat): the lease that keeps other workers off, apart from updated_at, which
    # says when its details last changed.
    processing_seen_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
        # Rows written by plain SQL (bulk loads, the gallery bench) get one too.
        sa_column_kwargs={"server_default": sa.text("CURRENT_TIMESTAMP")},
    )
    share_code: str = Field(
        default_factory=new_share_code, max_length=SHARE_CODE_LENGTH, unique=True
    )

    # The original as uploaded, kept unchanged under originals/{id}; never public.
    original_key: str = Field(max_length=200)
    content_type: str = Field(max_length=64)
    byte_size: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None

    # Camera metadata read from EXIF, when present.
    taken_at: datetime | None = timestamp(nullable=True)
    camera_make: str | None = Field(default=None, max_length=100)
    camera_model: str | None = Field(default=None, max_length=100)
    lens: str | None = Field(default=None, max_length=200)
    exposure_time: str | None = Field(default=None, max_length=32)  # e.g. "1/250"
    aperture: float | None = None  # f-number
    iso: int | None = None
    focal_length: float | None = None  # millimetres
    # The GPS position is shown to the owner only.
    has_location: bool = False
    gps_latitude: float | None = None
    gps_longitude: float | None = None

    # On Postgres the table also has search_vector, a stored generated tsvector with a
    # GIN index, made by migration 0002 and used only by images/search.py.

    # A tiny blurred preview as a data: URI, shown until the thumbnail arrives.
    placeholder: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class Rendition(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("image_id", "name", name="uq_rendition_image_name"),)

    id: int | None = Field(default=None, primary_key=True)
    image_id: uuid.UUID = Field(foreign_key="image.id", ondelete="CASCADE")
    name: RenditionName = enum_column(RenditionName, default=RenditionName.THUMB)
    key: str = Field(max_length=200)
    width: int
    height: int
    byte_size: int
    format: str = Field(default="webp", max_length=16)


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Lower-case and trimmed before it gets here.
    name: str = Field(max_length=50, unique=True)


class ImageTag(SQLModel, table=True):
    __tablename__ = "image_tag"

    image_id: uuid.UUID = Field(foreign_key="image.id", ondelete="CASCADE", primary_key=True)
    # Indexed on its own for "images with this tag" (the primary key leads with image_id).
    tag_id: int = Field(foreign_key="tag.id", ondelete="CASCADE", primary_key=True, index=True)
