"""Job bundle builder: export + settings -> validated OpenJD job bundle."""
