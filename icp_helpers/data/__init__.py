"""Step 0, the data: configuration, quarters, input schema, loaders, engine tables, the table cache and the artifacts each step writes."""
