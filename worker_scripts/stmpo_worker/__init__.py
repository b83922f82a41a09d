"""STMPO, the Single-Task Multi-Process Orchestrator: the worker side.

Standard library only (psutil is used when importable) because it runs on Deadline
workers from the job bundle, with whatever Python the worker has.
"""
