"""The GraphQL API at /graphql: a thin translation of the domain services for
integrations. It adds no rule of its own: every answer comes from the service the web
pages call, for the same Viewer. See docs/api.md."""
