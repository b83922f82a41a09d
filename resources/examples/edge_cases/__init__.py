"""Sample exports that do not render as shipped: each needs an argument (see ../README.md)."""
