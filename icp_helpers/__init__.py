"""icp_helpers: the logic behind the ICP research workbench notebooks."""

__version__ = "0.1.0"
