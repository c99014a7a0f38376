"""The bundled sample datasets (B2B and B2C) and their planted truth."""
