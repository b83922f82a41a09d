"""Shared resources: NUMA map, export JSON Schema, aerender stand-in, sample exports."""
