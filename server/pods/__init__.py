"""Study pods: forming them (pure) and the /api/v1/pods routes."""
