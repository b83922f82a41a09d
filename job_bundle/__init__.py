"""OpenJD job template sources used by the bundle builder."""
