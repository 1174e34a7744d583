"""Writers of combination results (HEPData submissions, ...)."""
