"""STMPO for After Effects: submitter, bundle builder and local runner."""

__version__ = "0.1.0"
