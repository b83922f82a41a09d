"""Run a job bundle on this machine through openjd-sessions."""
