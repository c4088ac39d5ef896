"""The writer's portfolio: every piece with its scores, suggestions and reviews (docs/portfolio.md)."""
