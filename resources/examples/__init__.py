"""Sample exports."""
