"""docs/schema.graphql is what the code serves: regenerate it with `make schema`."""

from imageshare.graphql.schema import schema
from tests.harness.components import REPO_ROOT


def test_the_exported_schema_is_current():
    exported = (REPO_ROOT / "docs" / "schema.graphql").read_text()
    assert exported == schema.as_str() + "\n", "docs/schema.graphql is stale: run `make schema`"
