"""Running the notebooks per quarter, index pages, drift, the report reader and browser checks."""
