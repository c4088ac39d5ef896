"""HTTP plumbing shared by every route: state keys, middleware, errors, rate limits, OpenAPI."""
