"""Lead scoring and sales cuts on the selected traits."""
