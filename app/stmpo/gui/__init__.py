"""The Qt submitter built on the deadline library dialog."""
