"""Worker-side scripts shipped in every job bundle (stdlib only; psutil when present)."""
