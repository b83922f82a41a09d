"""Submission to Deadline Cloud through the deadline library, single and batch."""
